import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Examples import the package by name (`awaken-tasks/ai-sdk`, …), as users do; in tests those names
// resolve to the sources, so no build is needed first (tsconfig.json's `paths` say the same to tsc).
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const packageAliases = [
  { find: /^awaken-tasks$/, replacement: source('./src/index.ts') },
  { find: /^awaken-tasks\/agent$/, replacement: source('./src/agent/index.ts') },
  { find: /^awaken-tasks\/sqlite$/, replacement: source('./src/stores/sqlite/index.ts') },
  { find: /^awaken-tasks\/(ai-sdk|mcp|otel|ag-ui)$/, replacement: source('./src/adapters/$1/index.ts') },
];

export default defineConfig({
  resolve: { alias: packageAliases },
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
