import express, { type NextFunction, type Request, type Response } from 'express';
import { ApartmentError, type Apartment } from 'sequelize-apartment';

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
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(error instanceof ApartmentError)) return next(error); // the app's own errors are untouched
    res.status(error.status).json({ error: error.name, tenant: error.tenant }); // 400, 404
  });
  // #endregion errors
  return app;
}
