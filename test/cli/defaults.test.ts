import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, buildOnce, ROOT, runBin } from './run.js';

describe('CLI defaults (real bin)', () => {
  let dir: string;
  beforeAll(async () => {
    await buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'awaken-cli-defaults-'));
  }, BUILD_TIMEOUT_MS);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--version and -V print the version in package.json and exit 0', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runBin([flag], dir);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
      expect(r.stderr).toBe('');
    }
  });

  it('tree without --db and no demo store yet: one line saying to run the demo or pass --db', async () => {
    const r = await runBin(['tree'], dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "awaken-tasks: no store at ./awaken-tasks.db (the demo's default): run `awaken-tasks demo` first, or pass --db <file>\n",
    );
  });

  it('tree without --db reads the store that demo wrote by default', async () => {
    expect((await runBin(['demo', '--json'], dir)).code).toBe(0);
    const explicit = await runBin(['tree', '--db', join(dir, 'awaken-tasks.db'), '--format', 'json'], dir);
    const byDefault = await runBin(['tree', '--format', 'json'], dir);
    expect(byDefault.code).toBe(0);
    expect(byDefault.stderr).toBe('');
    expect(byDefault.stdout).toBe(explicit.stdout);
    expect(JSON.parse(byDefault.stdout)).not.toEqual([]);
  }, 60_000);
});
