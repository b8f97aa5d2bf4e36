/**
 * The adapters' optional peers: `loadPeer` turns a missing or unusable package into a DriverError,
 * each entry point loads its peer through it with the range package.json declares, and the
 * exports / peer metadata agree. (The real missing-package import is in test/package/packed.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriverError as CoreDriverError } from '../../src/index.js';
import { DriverError, loadPeer } from '../../src/stores/driverError.js';

const ROOT = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
};

/** Entry point → its peer module file and the package it loads. */
const ENTRIES = {
  'awaken-tasks/ai-sdk': { file: 'src/adapters/ai-sdk/peer.ts', peer: 'ai' },
  'awaken-tasks/mcp': { file: 'src/adapters/mcp/peer.ts', peer: '@modelcontextprotocol/sdk' },
  'awaken-tasks/otel': { file: 'src/adapters/otel/peer.ts', peer: '@opentelemetry/api' },
  'awaken-tasks/ag-ui': { file: 'src/adapters/ag-ui/peer.ts', peer: '@ag-ui/core' },
  'awaken-tasks/testing': { file: 'src/testing/peer.ts', peer: 'fast-check' },
} as const;

const notFound = (specifier: string) =>
  Object.assign(
    new Error(`Cannot find package '${specifier}' imported from /app/node_modules/awaken-tasks/x.js`),
    {
      code: 'ERR_MODULE_NOT_FOUND',
    },
  );

describe('optional peers of the adapters and the testing kit', () => {
  it('a missing peer is a DriverError naming the package and the install command', async () => {
    const caught = await loadPeer('ai', 'awaken-tasks/ai-sdk', '>=6.0.0', () =>
      Promise.reject(notFound('ai')),
    ).catch((e: unknown) => e);
    expect(caught).toBeInstanceOf(DriverError);
    expect(caught).toMatchObject({
      name: 'DriverError',
      code: 'driver_missing',
      driver: 'ai',
      message: 'awaken-tasks/ai-sdk needs the package `ai`, which is not installed: run `npm install ai`',
    });
    expect((caught as DriverError).cause).toBeInstanceOf(Error);
    // The class is the one the core entry point exports, so code can test for it without a driver.
    expect(caught).toBeInstanceOf(CoreDriverError);
  });

  it('a scoped peer imported by subpath is named by its package', async () => {
    await expect(
      loadPeer('@modelcontextprotocol/sdk', 'awaken-tasks/mcp', '^1.24.0', () =>
        Promise.reject(notFound('@modelcontextprotocol/sdk')),
      ),
    ).rejects.toThrow(
      'awaken-tasks/mcp needs the package `@modelcontextprotocol/sdk`, which is not installed: run `npm install @modelcontextprotocol/sdk`',
    );
  });

  it('a peer that is installed but unusable (an old version without the module) names the range', async () => {
    const old = Object.assign(
      new Error('Package subpath \'./experimental/tasks\' is not defined by "exports"'),
      {
        code: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      },
    );
    const caught = (await loadPeer('@modelcontextprotocol/sdk', 'awaken-tasks/mcp', '^1.24.0', () =>
      Promise.reject(old),
    ).catch((e: unknown) => e)) as DriverError;
    expect(caught.code).toBe('driver_failed');
    expect(caught.message).toBe(
      "awaken-tasks/mcp could not load `@modelcontextprotocol/sdk` (Package subpath './experimental/tasks' is not defined by \"exports\"): install a supported version with `npm install @modelcontextprotocol/sdk@'^1.24.0'`",
    );
    // Something else missing inside the peer is not the peer missing.
    const inner = await loadPeer('ai', 'awaken-tasks/ai-sdk', '>=6.0.0', () =>
      Promise.reject(notFound('zod')),
    ).catch((e: DriverError) => e);
    expect(inner.code).toBe('driver_failed');
    // A throw of anything still becomes a DriverError.
    const odd = await loadPeer('ai', 'awaken-tasks/ai-sdk', '>=6.0.0', () => Promise.reject(42)).catch(
      (e: DriverError) => e,
    );
    expect(odd).toMatchObject({ code: 'driver_failed', message: expect.stringContaining('(42)') });
  });

  it('each entry point loads its peer with the range package.json declares; exports and peer metadata agree', () => {
    for (const [entry, { file, peer }] of Object.entries(ENTRIES)) {
      const source = readFileSync(join(ROOT, file), 'utf8');
      const call = /loadPeer\(\s*'([^']+)',\s*'([^']+)',\s*'([^']+)',\s*\(\) => import\('([^']+)'\)/.exec(
        source,
      );
      expect(call, file).not.toBeNull();
      const [, name, named, range, specifier] = call!;
      expect(name, file).toBe(peer);
      expect(named, file).toBe(entry);
      expect(range, file).toBe(pkg.peerDependencies[peer]);
      expect(specifier === peer || specifier!.startsWith(`${peer}/`), file).toBe(true);
      expect(pkg.peerDependenciesMeta[peer]?.optional, peer).toBe(true);
      expect(pkg.devDependencies[peer], `${peer} is a devDependency for the tests`).toBeDefined();
      expect(pkg.exports[`./${entry.slice('awaken-tasks/'.length)}`], entry).toBeDefined();
    }
  });
});
