/**
 * @swc/jest transpiles without type-checking (tsc --noEmit runs as its own step in `npm test`).
 * @middy/core 7 is ESM-only, so it is transformed to CommonJS like our own sources.
 */
const os = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  // One worker per core, at most four: jest's default (cores - 1) leaves half of a 2-core CI machine idle,
  // and every worker synthesizes CDK apps (about 1 GB each), so more than four buy little.
  maxWorkers: Math.max(1, Math.min(4, os.availableParallelism())),
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  // The package exports only an `import` condition; point jest's CommonJS resolver at the file.
  moduleNameMapper: { '^@middy/(core|util)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 120000,
  // Test-wide environment (the AWS SDK's Node.js version notice): see the file.
  setupFiles: ['<rootDir>/test/setup/environment.ts'],
  // One folder per run for the stage templates the construct suites share (test/helpers/shared-synthesis.ts).
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
};
