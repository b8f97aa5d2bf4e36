import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, binSuite, runBin } from './run.js';

const hash = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('bad input: one line on stderr, exit code 2, no stack trace, files untouched (real bin)', () => {
  const tmp = binSuite('awaken-bad-');
  let good: string;
  let corrupt: string;
  let missing: string;
  const hashes = new Map<string, string>();
  beforeAll(async () => {
    good = join(tmp.dir, 'good.db');
    corrupt = join(tmp.dir, 'corrupt.db');
    missing = join(tmp.dir, 'missing.db');
    expect((await runBin(['demo', '--db', good, '--json'])).code).toBe(0);
    writeFileSync(corrupt, Buffer.from('this is not a SQLite database, just some bytes\n'.repeat(40)));
    for (const f of [good, corrupt]) hashes.set(f, hash(f));
  }, BUILD_TIMEOUT_MS);

  const cases: Array<[string, () => string[], RegExp]> = [
    ['no command', () => [], /missing command/],
    ['an unknown command', () => ['bogus'], /unknown command 'bogus'/],
    ['an unknown flag', () => ['tree', '--db', good, '--bogus'], /unknown option '--bogus'/],
    ['an unknown demo flag', () => ['demo', '--db', good, '--fast'], /unknown option '--fast'/],
    ['a missing --db file', () => ['tree', '--db', missing], /cannot read .*missing\.db/],
    ['a corrupt --db file', () => ['tree', '--db', corrupt], /not a database/],
    ['demo on a corrupt --db file', () => ['demo', '--db', corrupt], /not a database/],
    ['an unknown thread', () => ['tree', '--db', good, '--thread', 'nope'], /unknown thread 'nope'/],
    ['a bad --format', () => ['tree', '--db', good, '--format', 'xml'], /xml/],
    ['a flag without its value', () => ['tree', '--db', good, '--thread'], /argument missing/],
    ['a bad --crash-after', () => ['demo', '--db', good, '--crash-after', '-5'], /non-negative integer/],
    ['a bad --machine', () => ['graph', '--machine', 'robot'], /robot/],
    ['a bad graph --format', () => ['graph', '--format', 'png'], /png/],
    ['an extra argument', () => ['graph', 'extra'], /too many arguments/],
  ];

  it.each(cases)('%s', async (_name, args, message) => {
    const r = await runBin(args());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^awaken-tasks: /);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    for (const [f, h] of hashes) expect(hash(f)).toBe(h);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(`${corrupt}-wal`) || existsSync(`${corrupt}-shm`)).toBe(false);
  });

  it('a good file is read without being changed, and --help exits 0', async () => {
    const r = await runBin(['tree', '--db', good, '--thread', 'demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^thread demo \(9 tasks\)/);
    expect(hash(good)).toBe(hashes.get(good));
    expect((await runBin(['--help'])).code).toBe(0);
  });
});
