import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binSuite, ROOT, runBin } from './run.js';

describe('CLI defaults (real bin)', () => {
  const tmp = binSuite('awaken-cli-defaults-');

  it('--version and -V print the version in package.json and exit 0', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runBin([flag], tmp.dir);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
      expect(r.stderr).toBe('');
    }
  });

  it('tree without --db and no demo store yet: one line saying to run the demo or pass --db', async () => {
    const r = await runBin(['tree'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "awaken-tasks: no store at ./awaken-tasks.db (the demo's default): run `awaken-tasks demo` first, or pass --db <file>\n",
    );
  });

  it('tree without --db reads the store that demo wrote by default', async () => {
    expect((await runBin(['demo', '--json'], tmp.dir)).code).toBe(0);
    const explicit = await runBin(
      ['tree', '--db', join(tmp.dir, 'awaken-tasks.db'), '--format', 'json'],
      tmp.dir,
    );
    const byDefault = await runBin(['tree', '--format', 'json'], tmp.dir);
    expect(byDefault.code).toBe(0);
    expect(byDefault.stderr).toBe('');
    expect(byDefault.stdout).toBe(explicit.stdout);
    expect(JSON.parse(byDefault.stdout)).not.toEqual([]);
  }, 60_000);
});
