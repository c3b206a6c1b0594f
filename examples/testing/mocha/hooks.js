'use strict';
// Root hooks (mocha --require mocha/hooks.js).
const { settle } = require('sequelize-apartment/testing');
const { apartment, sequelize } = require('../app/db');

exports.mochaHooks = {
  async afterAll() {
    // Let the kit finish its background work; the tenants it kept ready for no test become warm spares.
    await settle(apartment);
    // A serial run ends here: close the pool. A --parallel worker runs this after each of its files
    // and may run more; mocha ends the worker when the run is over.
    if (process.env.MOCHA_WORKER_ID === undefined) await sequelize.close();
  },
};
