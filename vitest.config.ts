import { defineConfig } from 'vitest/config';

// Two projects: fast pure tests, and integration tests that drive the shared lab docker engine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['lib/**/*.test.ts', 'actions/*/src/**/*.test.ts', 'scripts/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // One docker engine and one lab: test files must not race each other.
          fileParallelism: false,
        },
      },
    ],
  },
});
