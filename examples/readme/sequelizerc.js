// .sequelizerc: read by sequelize-cli (shared migrations) and by `apartment` (tenant migrations).
const path = require('path');

module.exports = {
  config: path.resolve('config', 'config.json'),
  'migrations-path': path.resolve('db', 'migrations'),
  'seeders-path': path.resolve('db', 'seeders'),
  'models-path': path.resolve('models'),
};

// apartment's keys are non-enumerable: sequelize-cli refuses every key it does not know
// ("Unknown argument: apartment") but reads only the enumerable ones; apartment reads both.
Object.defineProperty(module.exports, 'apartment', { value: path.resolve('src', 'db.js') });
