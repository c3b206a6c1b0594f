'use strict';
// What the tests exercise: plain app code that relies on the tenant in context.
const { Widget } = require('./db');

async function addWidget(name) {
  return Widget.create({ name });
}

async function widgetNames() {
  return (await Widget.findAll({ order: [['id', 'ASC']] })).map((widget) => widget.name);
}

module.exports = { addWidget, widgetNames };
