import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Sequelize } from 'sequelize';
import type { Apartment } from '../apartment';
import { ConfigurationError, describeValue } from '../errors';
import { importFile, type GlobalFlags } from './config';

/** Flags that --apartment replaces: the instance already says all of this. */
const FROM_INSTANCE = [['url', '--url'], ['config', '--config'], ['env', '--env'], ['prefix', '--prefix'], ['migrationsPath', '--migrations-path'], ['seedersPath', '--seeders-path'], ['distribute', '--distribute']] as const;

/**
 * The module named by `--apartment`, else by `.sequelizerc` `apartment`
 * (relative to `cwd`), or undefined when neither is set.
 * @throws ConfigurationError when it is combined with flags it replaces
 */
export function apartmentModule(cwd: string, flags: GlobalFlags, rc: { apartment?: string }): string | undefined {
  const named = flags.apartment ?? rc.apartment;
  if (named === undefined) return undefined;
  if (typeof named !== 'string' || named === '') {
    throw new ConfigurationError(`Expected \`apartment\` in .sequelizerc to be a module path like './src/db.js', got ${describeValue(named)}.`);
  }
  const clash = FROM_INSTANCE.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag);
  if (clash.length) {
    throw new ConfigurationError(
      `${clash.join(', ')} cannot be combined with the app's Apartment (${flags.apartment ? '--apartment' : ".sequelizerc 'apartment'"} ${named}): the database, prefix, migrations and seeders folders come from that instance. Drop ${clash.length > 1 ? 'those flags' : 'the flag'}, or change them in ${named}.`,
    );
  }
  return path.resolve(cwd, named);
}

/** Whether `value` is an Apartment, also one built by another copy of this package (the app's). */
function isApartment(value: unknown): value is Apartment {
  const v = value as Partial<Apartment> | null;
  return Boolean(v && typeof v === 'object' && typeof v.createTenant === 'function' && typeof v.migrateAll === 'function' && v.sequelize && typeof v.prefix === 'string');
}

/**
 * Loads the app's module and finds its Apartment instance: the module's
 * export itself, its `default`, its `apartment` export, or its one export
 * that is an Apartment.
 * @throws ConfigurationError when the module is missing or exports no Apartment
 */
export async function loadApartment(file: string): Promise<Apartment> {
  if (!fs.existsSync(file)) {
    throw new ConfigurationError(`The app module ${file} (--apartment, or .sequelizerc 'apartment') does not exist. Point it at the module that creates your Apartment and exports it (module.exports = apartment, or exports.apartment).`);
  }
  const loaded = await importFile(file, 'the app module');
  if (isApartment(loaded)) return loaded;
  const exports = loaded && typeof loaded === 'object' ? (loaded as Record<string, unknown>) : {};
  if (isApartment(exports.apartment)) return exports.apartment;
  const found = Object.values(exports).filter(isApartment);
  if (found.length === 1) return found[0]!;
  throw new ConfigurationError(
    found.length > 1
      ? `The app module ${file} exports ${found.length} Apartment instances. Export the one the CLI should use as \`apartment\`.`
      : `The app module ${file} exports no Apartment instance (got ${describeValue(loaded)}). Export it: module.exports = apartment, or exports.apartment = apartment.`,
  );
}

function isSequelize(value: unknown): value is Sequelize {
  const v = value as Partial<Sequelize> | null;
  return Boolean(v && typeof v === 'object' && typeof v.getQueryInterface === 'function' && v.models && typeof v.define === 'function');
}

/**
 * Loads the module `--from-models` names: one that exports the app's
 * Apartment (its shared models are left out), or a Sequelize instance with
 * the models defined on it (every model is a tenant model), found as
 * `loadApartment` finds an Apartment (`sequelize` export for an instance).
 * @throws ConfigurationError when the module is missing or exports neither
 */
export async function loadModels(file: string): Promise<{ apartment?: Apartment; sequelize: Sequelize }> {
  if (!fs.existsSync(file)) {
    throw new ConfigurationError(`The models module ${file} (--from-models) does not exist. Point it at the module that defines your models and exports your Apartment (or Sequelize) instance.`);
  }
  const loaded = await importFile(file, 'the models module');
  const exports = loaded && typeof loaded === 'object' ? (loaded as Record<string, unknown>) : {};
  const apartment = [loaded, exports.apartment, ...Object.values(exports)].find(isApartment);
  if (apartment) return { apartment, sequelize: apartment.sequelize };
  const sequelize = [loaded, exports.sequelize, ...Object.values(exports)].find(isSequelize);
  if (sequelize) return { sequelize };
  throw new ConfigurationError(
    `The models module ${file} exports neither an Apartment nor a Sequelize instance (got ${describeValue(loaded)}). Export the instance your models are defined on: module.exports = apartment (shared models are left out), or module.exports = sequelize.`,
  );
}
