/**
 * Jest config for all tests under test/ (every *.test.ts below it).
 * - ts-jest compiles with test/tsconfig.json (extends ../tsconfig.json; isolatedModules = per-file
 *   transpile, fast; type-check with `npx tsc -p test/tsconfig.json`).
 * - globalSetup/globalTeardown create and remove one temp N8N_USER_FOLDER for the run (n8n-core
 *   writes <folder>/.n8n/config); setupFiles runs test/harness/env.ts before each test file, so the
 *   n8n environment is set before anything can load n8n-core, whatever a test imports first.
 * NOTE: keep jest config here only; a "jest" key in package.json as well makes jest refuse to start.
 */
/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
	},
	moduleFileExtensions: ['ts', 'js', 'json'],
	globalSetup: '<rootDir>/test/harness/global-setup.ts',
	globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
	setupFiles: ['<rootDir>/test/harness/env.ts'],
	testTimeout: 20000,
	reporters: ['default', '<rootDir>/test/harness/summary-reporter.js'],
};
