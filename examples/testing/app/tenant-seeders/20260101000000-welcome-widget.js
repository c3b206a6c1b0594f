'use strict';
module.exports = {
  async up(queryInterface) {
    const now = new Date();
    await queryInterface.bulkInsert('widgets', [{ name: 'welcome', createdAt: now, updatedAt: now }]);
  },
  async down(queryInterface) {
    await queryInterface.bulkDelete('widgets', { name: 'welcome' });
  },
};
