import express, { type NextFunction, type Request, type Response } from 'express';
import type { Apartment } from 'sequelize-apartment';
import { apartmentErrorHandler } from 'sequelize-apartment/express';

/** The README's middleware reference, run by test/examples/readme-snippets.test.ts. */
export function middlewareApp(apartment: Apartment) {
  const app = express();
  // #region forms
  // acme.example.com -> 'acme' (www, bare and IP hosts: no tenant)
  app.use('/app', apartment.middleware({ resolve: 'subdomain', exclude: ['www', 'admin'] }));
  // x-tenant: acme
  app.use('/api', apartment.middleware({ resolve: 'header', header: 'x-tenant' }));
  // /t/acme/widgets -> 'acme'; the segment is removed, so later routes match /t/widgets
  app.use('/t', apartment.middleware({ resolve: 'path' }));
  // anything: a function returning a key (or a promise of one); header first, then subdomain
  app.use('/mixed', apartment.middleware({ resolve: [(req) => req.get('x-org'), 'subdomain'], optional: true }));
  // #endregion forms

  for (const base of ['/app', '/api', '/t', '/mixed']) {
    app.get(`${base}/whoami`, (_req, res) => {
      res.json({ tenant: apartment.current() ?? null });
    });
  }

  // #region errors
  // after the routes: every ApartmentError answered with its status and a short client message
  app.use(apartmentErrorHandler());
  // the app's own catch-all sees everything else (and logs it)
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    console.error(error);
    res.status(500).json({ error: 'Internal Server Error' });
  });
  // #endregion errors
  return app;
}
