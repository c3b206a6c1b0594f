import * as path from 'node:path';
import { ROOT } from './paths';

const COPY = path.join(ROOT, 'node_modules', 'sequelize-app-copy');

/**
 * The Sequelize class of a copy loaded afresh (`sequelize-app-copy`, a second
 * install of Sequelize, with its module cache entries dropped first): its
 * prototypes are untouched by whatever other suites of this process
 * installed, and a test may alter them without touching anyone else's.
 */
export function freshSequelize(): typeof import('sequelize').Sequelize {
  for (const file of Object.keys(require.cache)) if (file.startsWith(COPY + path.sep)) delete require.cache[file];
  return (require(COPY) as typeof import('sequelize')).Sequelize;
}
