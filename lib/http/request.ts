/**
 * The little of a request the middleware reads. Node's `IncomingMessage`
 * (and so Express 4/5's `req`) fits it; `express` itself is never imported,
 * so the package loads in apps that do not use it.
 */
export interface TenantRequest {
  headers: Record<string, string | string[] | undefined>;
  /** Node's raw header list (`[name, value, name, value, ...]`), used to detect repeated headers. */
  rawHeaders?: string[];
  url?: string;
  /** The HTTP method: a write (anything but GET, HEAD, OPTIONS) to a read-only tenant is refused (423). Missing counts as a write. */
  method?: string;
  /** Express: the Host (or trusted X-Forwarded-Host) without its port. */
  hostname?: string;
  /** Express: the path the current router is mounted at. */
  baseUrl?: string;
}

/**
 * What a resolver function of `apartment.middleware()` (and of
 * `sequelize-apartment/express`) gets by default: the part of Express 4/5's
 * `req` that tenant resolvers read, declared here so that `express` and its
 * types stay optional. For the rest of Express's request (your own `req.user`,
 * ...), pass its type: `apartment.middleware<Request>({ resolve: (req) => req.user?.org })`.
 */
export interface ExpressRequestLike extends TenantRequest {
  /** A request header, case-insensitive (Express's `req.get(name)`). */
  get(name: string): string | undefined;
  /** The path of the URL, without the query string. */
  path: string;
  /** Route parameters. */
  params: Record<string, string>;
}

/** What a resolver found: the tenant, and what to do to the request once the tenant is accepted. */
export interface Resolution {
  readonly tenant: unknown;
  /** Called once the tenant is known to exist, just before the rest of the request runs. */
  readonly accept?: () => void;
}

/** A built-in resolver: a tenant, or undefined when the request names none. */
export type BuiltinResolver = (req: TenantRequest) => Resolution | undefined;

/** How many times a header occurs in the raw request (Node joins or drops repeats in `req.headers`). */
export function headerCount(req: TenantRequest, name: string): number {
  const raw = req.rawHeaders;
  if (!Array.isArray(raw)) return req.headers[name] === undefined ? 0 : 1;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === name.length && raw[i].toLowerCase() === name) count++;
  }
  return count;
}
