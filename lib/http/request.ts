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
  /** Express: the Host (or trusted X-Forwarded-Host) without its port. */
  hostname?: string;
  /** Express: the path the current router is mounted at. */
  baseUrl?: string;
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
