import type { BuiltinResolver } from './request';

const FIRST_SEGMENT = /^\/([^/?#]+)(.*)$/s;

/**
 * `resolve: 'path'`: `/acme/widgets?x=1` -> `acme`. Once the tenant is
 * accepted the segment is moved from `req.url` to `req.baseUrl`, as Express
 * does for a router mounted at `/acme`, so routes are written without it
 * (`app.get('/widgets')`); `req.originalUrl` keeps the full path. The segment
 * is not percent-decoded: an encoded key fails validation (404).
 */
export function pathResolver(): BuiltinResolver {
  return (req) => {
    const url = req.url ?? '/';
    const match = FIRST_SEGMENT.exec(url);
    if (!match) return undefined;
    const [, segment, rest] = match;
    return {
      tenant: segment,
      accept: () => {
        req.url = rest.startsWith('/') ? rest : `/${rest}`;
        req.baseUrl = `${req.baseUrl ?? ''}/${segment}`;
      },
    };
  };
}
