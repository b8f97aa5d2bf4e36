import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStoreError, SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../src/stores/sqlite/schema.js';
import { buildDist } from '../fixtures/childProcess.js';
import { rec } from '../helpers/records.js';

const root = mkdtempSync(join(tmpdir(), 'awaken-sqlite-open-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
/** A fresh folder per case, so "nothing appeared beside the file" is checkable. */
const folder = (): string => {
  const d = join(root, `case-${dirs++}`);
  mkdirSync(d);
  return d;
};

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const listing = (dir: string): string[] => readdirSync(dir).sort();

/** Opens `path` for writing (and for reading), expecting `code`; checks the folder is untouched. */
function expectUntouched(path: string, code: string, pattern: RegExp): void {
  const dir = resolve(path, '..');
  const before = { hash: sha(path), files: listing(dir) };
  for (const readonly of [false, true]) {
    let err: unknown;
    try {
      new SqliteTaskStore(path, { readonly });
    } catch (e) {
      err = e;
    }
    expect(err, `readonly: ${readonly}`).toBeInstanceOf(SqliteStoreError);
    expect((err as SqliteStoreError).code).toBe(code);
    expect((err as SqliteStoreError).path).toBe(path);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(pattern);
  }
  expect(sha(path)).toBe(before.hash);
  expect(listing(dir)).toEqual(before.files);
}

describe('SqliteTaskStore opening: nothing is written before the file is checked', () => {
  it('a user_version = 999 file (WAL) is refused with newer_schema and left byte-for-byte untouched', () => {
    const path = join(folder(), 'newer.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE tasks (task_id TEXT PRIMARY KEY, owner_thread_id TEXT, status TEXT, record TEXT)');
    db.pragma('user_version = 999');
    db.close();
    expectUntouched(path, 'newer_schema', /schema version 999 is newer than this awaken-tasks/);
  });

  it("another application's database is refused with foreign_database and left byte-for-byte untouched", () => {
    const dir = folder();
    const other = join(dir, 'app.db');
    const db = new Database(other);
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ada');");
    db.close();
    expectUntouched(other, 'foreign_database', /not an awaken-tasks database/);

    // A `tasks` table of another shape is not ours either, nor is another application_id.
    const lookalike = join(dir, 'lookalike.db');
    const db2 = new Database(lookalike);
    db2.exec('CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)');
    db2.close();
    expectUntouched(lookalike, 'foreign_database', /no awaken-tasks marker/);
    const marked = join(dir, 'marked.db');
    const db3 = new Database(marked);
    db3.pragma('application_id = 1234');
    db3.exec('CREATE TABLE t (x)');
    db3.close();
    expectUntouched(marked, 'foreign_database', /application_id is 1234/);
    const text = join(dir, 'notes.db');
    writeFileSync(text, 'these are my notes, not a database\n'.repeat(10));
    expectUntouched(text, 'foreign_database', /file is not a database/);
    const folderPath = join(dir, 'folder.db');
    mkdirSync(folderPath);
    expect(() => new SqliteTaskStore(folderPath)).toThrow(
      expect.objectContaining({ code: 'foreign_database', message: expect.stringMatching(/not a file/) }),
    );
  });

  it('an older unmarked task file and an empty file are ours: brought forward and marked', async () => {
    const dir = folder();
    const legacy = join(dir, 'legacy.db');
    const db = new Database(legacy);
    db.exec(
      'CREATE TABLE tasks (task_id TEXT PRIMARY KEY, owner_thread_id TEXT NOT NULL, status TEXT NOT NULL, record TEXT NOT NULL, writer TEXT)',
    );
    db.prepare('INSERT INTO tasks VALUES (?, ?, ?, ?, NULL)').run(
      'bg_3',
      't',
      'completed',
      JSON.stringify(rec('bg_3', { status: 'completed' })),
    );
    db.close();
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    for (const path of [legacy, empty]) {
      const store = new SqliteTaskStore(path);
      await store.put([rec('bg_10')]);
      await store.close();
      const check = new Database(path, { readonly: true });
      expect(check.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
      expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      check.close();
    }
  });
});

describe('SqliteTaskStore opening a read-only file (child process as an unprivileged user)', () => {
  let dist = '';
  beforeAll(() => {
    dist = buildDist('sqlite-open');
  }, 120_000);

  /** Runs the opener as `nobody` when the tests run as root (root may write any file). */
  function openInChild(path: string, mode: 'write' | 'read'): Record<string, unknown> {
    const asRoot = process.getuid?.() === 0;
    const res = spawnSync(
      process.execPath,
      [resolve(import.meta.dirname, '../fixtures/sqlite-open-child.mjs')],
      {
        env: { ...process.env, AWAKEN_DIST: dist, DB_FILE: path, MODE: mode },
        encoding: 'utf8',
        timeout: 30_000,
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      },
    );
    expect(res.status, res.stderr).toBe(0);
    return JSON.parse(res.stdout.trim()) as Record<string, unknown>;
  }

  it('a read-only task file is refused with read_only_file, untouched, and still opens with { readonly: true }', async () => {
    const dir = folder();
    const path = join(dir, 'tasks.db');
    const store = new SqliteTaskStore(path);
    await store.put([rec('bg_0', { status: 'completed' }), rec('bg_1')]);
    await store.close();
    rmSync(`${path}-owner`);
    chmodSync(path, 0o444);
    // The folder stays writable: only the file is read-only, and nothing may appear beside it.
    chmodSync(dir, 0o777);
    chmodSync(root, 0o755);
    const before = { hash: sha(path), files: listing(dir) };
    const refused = openInChild(path, 'write');
    expect(refused).toMatchObject({ t: 'error', name: 'SqliteStoreError', code: 'read_only_file' });
    expect(refused.message).toContain(path);
    expect(refused.message).toMatch(/read-only/);
    expect(sha(path)).toBe(before.hash);
    expect(listing(dir)).toEqual(before.files);

    expect(openInChild(path, 'read')).toEqual({ t: 'opened', records: 2 });
    expect(sha(path)).toBe(before.hash);
  }, 60_000);
});
