import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests spawn child processes and a PostgreSQL cluster; two cores.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
