import { TenantNameError } from '../errors';
import { headerCount, type BuiltinResolver, type TenantRequest } from './request';

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
/** Dot-separated non-empty labels of letters, digits and '-' (and '_', which some hosts use). */
const HOST_NAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;

/**
 * The tenant label of a host name: its first label, lower-cased, port
 * removed. `undefined` when the host has no subdomain: IP addresses, a single
 * label (`localhost`), two labels (`example.com`, but `acme.localhost` is
 * `acme`), or an excluded first label (`www`). A malformed host (empty
 * label, characters a host name cannot have) gives `''`, which fails key
 * validation (404): a malformed host never selects a tenant.
 */
export function subdomainOf(host: string | undefined, exclude: ReadonlySet<string>): string | undefined {
  if (typeof host !== 'string') return undefined;
  let name = host.trim().toLowerCase();
  if (name === '' || name.startsWith('[')) return undefined; // IPv6 literal
  const colon = name.indexOf(':');
  if (colon !== -1) name = name.slice(0, colon);
  if (name.endsWith('.')) name = name.slice(0, -1); // fully qualified form
  if (IPV4.test(name)) return undefined;
  if (!HOST_NAME.test(name)) return '';
  const labels = name.split('.');
  if (labels.length < 2 || (labels.length === 2 && labels[1] !== 'localhost')) return undefined;
  const first = labels[0];
  return exclude.has(first) ? undefined : first;
}

function hostOf(req: TenantRequest): string | undefined {
  // Express's `hostname` honours `trust proxy` (X-Forwarded-Host); plain Node has only the header.
  if (typeof req.hostname === 'string') return req.hostname;
  const host = req.headers.host;
  return Array.isArray(host) ? host[0] : host;
}

/** `resolve: 'subdomain'`: `acme.example.com` -> `acme` (Apartment's Subdomain elevator). */
export function subdomainResolver(exclude: ReadonlySet<string>): BuiltinResolver {
  return (req) => {
    // RFC 9112 §3.2: a request with more than one Host header must be answered with 400.
    if (headerCount(req, 'host') > 1) {
      throw new TenantNameError('The request has more than one `Host` header; send exactly one.', { status: 400 });
    }
    const label = subdomainOf(hostOf(req), exclude);
    return label === undefined ? undefined : { tenant: label };
  };
}
