import { defineConfig } from 'vitest/config';

/**
 * Three projects, one command (`npm test` runs them all):
 *  - unit: everything that needs no Elasticsearch; unit-es: pure tests in test/es (`*.unit.test.ts`);
 *  - integration: tests against a real node (test/es/**, and any `*.int.test.ts`). Only this project has
 *    the globalSetup that starts the node (scripts/local-es.sh) or uses ES_URL, so running a unit test file
 *    alone never starts Elasticsearch. Pure tests inside test/es are named `*.unit.test.ts`.
 */
const integration = ['test/es/**/*.test.ts', 'test/**/*.int.test.ts'];
const unitInTestEs = 'test/es/**/*.unit.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 300_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/es/**', 'test/**/*.int.test.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'unit-es', include: [unitInTestEs] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integration,
          exclude: ['**/node_modules/**', unitInTestEs],
          globalSetup: ['test/setup/es-global-setup.ts'],
        },
      },
    ],
  },
});
