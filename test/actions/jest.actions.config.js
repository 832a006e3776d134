/**
 * The action tests on their own: no Temporal server, so no integration global setup. They need
 * PostgreSQL on 127.0.0.1:5432 and create (and drop) their own `aire_test_actions` database.
 *   npx jest -c test/actions/jest.actions.config.js
 */
const base = require('../../jest.config.js');

const { globalSetup: _setup, globalTeardown: _teardown, ...rest } = base;

/** @type {import('jest').Config} */
module.exports = {
  ...rest,
  rootDir: '../..',
  roots: ['<rootDir>/test/actions'],
};
