import { Apartment } from '../apartment';
import { ConfigurationError, describeValue } from '../errors';

/** The `apartment` option every integration takes, checked at registration rather than at the first request. */
export function apartmentOption(value: unknown, where: string): Apartment {
  if (!(value instanceof Apartment)) {
    throw new ConfigurationError(`Expected the \`apartment\` option of ${where} to be an Apartment instance, got ${describeValue(value)}.`);
  }
  return value;
}
