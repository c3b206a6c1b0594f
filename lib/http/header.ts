import { TenantNameError } from '../errors';
import { headerCount, type BuiltinResolver } from './request';

/**
 * `resolve: 'header'`: the tenant key is the value of one request header
 * (default `x-tenant`), taken as is. A header sent twice is ambiguous and
 * answers 400 rather than picking one.
 */
export function headerResolver(header: string): BuiltinResolver {
  const name = header.toLowerCase();
  return (req) => {
    const count = headerCount(req, name);
    if (count === 0) return undefined;
    if (count > 1) {
      throw new TenantNameError(
        `The request has ${count} \`${name}\` headers; send exactly one with the tenant key.`,
        { status: 400 },
      );
    }
    const value = req.headers[name];
    const text = (Array.isArray(value) ? value[0] : value)?.trim();
    // One header holding a list (`acme, globex`) is two tenants, as two headers are (Node and Fetch join repeats so).
    if (text?.includes(',')) {
      throw new TenantNameError(`The \`${name}\` header holds a list; send exactly one tenant key.`, { status: 400 });
    }
    return text ? { tenant: text } : undefined;
  };
}
