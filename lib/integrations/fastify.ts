/**
 * `sequelize-apartment/fastify`: the tenant plugin for Fastify 4/5.
 * `fastify` is an optional peer dependency.
 * @module sequelize-apartment/fastify
 */
import { AsyncResource } from 'node:async_hooks';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import type { Apartment } from '../apartment';
import { ApartmentError } from '../errors';
import { clientAnswer } from '../http/answer';
import { requestTenant, type RequestTenant, type ResolveOptions } from '../http/resolve';
import { apartmentOption } from './guard';

declare module 'fastify' {
  interface FastifyRequest {
    /** The key of the request's tenant (set by sequelize-apartment's plugin), or undefined without one. */
    tenant: string | undefined;
  }
}

/** Options of `apartmentPlugin`: the Apartment, and how to read the tenant (as `apartment.middleware()`). */
export interface ApartmentPluginOptions extends ResolveOptions<FastifyRequest> {
  /** The app's Apartment. */
  apartment: Apartment;
}

const SCOPE = Symbol('sequelize-apartment.scope');
const PROBLEM = Symbol('sequelize-apartment.problem');

/**
 * Fastify 4/5 plugin: resolves each request's tenant at `onRequest`, sets
 * `request.tenant`, and runs the rest of the request inside
 * `apartment.run(tenant, ...)`. Body parsing happens in the socket's own
 * async context, so the context is entered again (from a resource captured
 * inside `run`) at `preValidation`: handlers see the tenant after a JSON body
 * too. Problems with the tenant go to Fastify's error handling as
 * `ApartmentError`s whose `status` (400/404) becomes the reply's; where
 * Fastify's default error handler answers an `ApartmentError` (the
 * plugin's or a route's), the body's message is the short client message
 * (`{ statusCode, error, message, tenant? }`, no API advice), while the
 * error and the log keep the full one. An app's own error handler sees the
 * `ApartmentError` and answers as it likes.
 * `resolve: 'path'` reads the first segment but cannot strip it (Fastify
 * has routed the request before `onRequest`): declare it in the routes
 * (`/:tenant/widgets`).
 *
 * @example
 * await app.register(apartmentPlugin, { apartment, resolve: 'subdomain' });
 * app.get('/widgets', (request) => Widget.findAll()); // request.tenant === 'acme'
 */
const plugin: FastifyPluginCallback<ApartmentPluginOptions> = (app, options, done) => {
  let apartment: Apartment;
  let tenantOf: RequestTenant;
  try {
    apartment = apartmentOption(options?.apartment, 'apartmentPlugin');
    const { apartment: _, ...resolve } = options;
    tenantOf = requestTenant(apartment, resolve);
  } catch (error) {
    return done(error as Error); // Fastify reports it from register()/ready()
  }
  app.decorateRequest('tenant', undefined);
  app.addHook('onRequest', (request, _reply, next) => {
    const raw = request.raw;
    tenantOf({ headers: raw.headers, rawHeaders: raw.rawHeaders, url: raw.url, method: raw.method, hostname: request.hostname }, request)
      .then((found) => () => {
        if (!found) return next();
        request.tenant = found.ref.key;
        apartment.run(found.ref.key, () => {
          (request as any)[SCOPE] = new AsyncResource('sequelize-apartment');
          next();
        });
      })
      // `next` outside the promise chain: errors thrown later are Fastify's to handle.
      .then((proceed) => proceed(), next);
  });
  // Fastify's default error handler sends `error.message`: the developer's.
  // Its answer to an ApartmentError is replaced by the client's (an app's
  // own error handler that answers differently is left alone).
  app.addHook('onError', (request, _reply, error, next) => {
    if (error instanceof ApartmentError) (request as any)[PROBLEM] = error;
    next();
  });
  app.addHook('onSend', (request, reply, payload, next) => {
    const problem: ApartmentError | undefined = (request as any)[PROBLEM];
    if (!problem || typeof payload !== 'string' || reply.statusCode !== problem.status) return next(null, payload);
    let sent: { message?: unknown } | undefined;
    try {
      sent = JSON.parse(payload);
    } catch {
      return next(null, payload);
    }
    if (sent?.message !== problem.message) return next(null, payload);
    next(null, JSON.stringify(clientAnswer(problem)));
  });
  app.addHook('preValidation', (request, _reply, next) => {
    const scope: AsyncResource | undefined = (request as any)[SCOPE];
    if (scope) scope.runInAsyncScope(next);
    else next();
  });
  done();
};

/**
 * What `fastify-plugin` would set, written here so an app that does not use
 * Fastify never installs it: `skip-override` makes the hooks apply to the
 * scope the plugin is registered in (not an encapsulated child), and the
 * `plugin-meta` range is checked by Fastify itself at `register`, refusing
 * a major this plugin was not tested with.
 */
const PLUGIN_META = { fastify: '4.x || 5.x', name: 'sequelize-apartment' };

/** The plugin: its hooks apply to the scope it is registered in. */
export const apartmentPlugin: FastifyPluginCallback<ApartmentPluginOptions> = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: PLUGIN_META.name,
  [Symbol.for('plugin-meta')]: PLUGIN_META,
});

export default apartmentPlugin;
