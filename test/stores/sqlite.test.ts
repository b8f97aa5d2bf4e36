import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryTaskStore } from '../../src/stores/memory.js';
import { SqliteStoreError, SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../src/stores/sqlite/schema.js';
import type { CorruptRecord } from '../../src/stores/types.js';
import { storeConformance } from '../../src/testing/storeConformance.js';
import type { PersistedTaskMeta } from '../../src/wire/types.js';
import { legacyRecord, rec } from '../helpers/records.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = () => join(dir, `store-${files++}.db`);

describe('storeConformance', () => {
  it('passes for MemoryTaskStore', () => storeConformance(() => new MemoryTaskStore()));
  it('passes for SqliteTaskStore on a file', () => storeConformance(() => new SqliteTaskStore(file())));
  it("passes for SqliteTaskStore on ':memory:'", () =>
    storeConformance(() => new SqliteTaskStore(':memory:')));
  it('passes for SqliteTaskStore instances sharing one file', () => {
    const shared = file();
    return storeConformance(() => new SqliteTaskStore(shared));
  });
  it('rejects naming the failed check', async () => {
    const broken = () => Object.assign(new MemoryTaskStore(), { load: async () => [] });
    await expect(storeConformance(broken)).rejects.toThrow(/check "records round-trip exactly" failed/);
  });
});

describe('SqliteTaskStore', () => {
  it('I13/I14: records written by one instance load in another (durable once put resolves)', async () => {
    const path = file();
    const a = new SqliteTaskStore(path);
    await a.put([rec('bg_0'), rec('bg_1', { owner_thread_id: 'u', status: 'completed', result: { ok: 1 } })]);
    await a.close();
    const b = new SqliteTaskStore(path);
    expect(await b.load('u')).toEqual([
      rec('bg_1', { owner_thread_id: 'u', status: 'completed', result: { ok: 1 } }),
    ]);
    expect((await b.load()).map((r) => r.task_id)).toEqual(['bg_0', 'bg_1']);
    await b.close();
  });

  it('uses WAL, the current schema version, our application_id, one row per task and an index on the owner thread', async () => {
    const path = file();
    const store = new SqliteTaskStore(path);
    await store.put([rec('bg_0'), rec('bg_0', { status: 'completed' })]);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(db.prepare('SELECT count(*) AS n FROM tasks').get()).toEqual({ n: 1 });
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT * FROM tasks WHERE owner_thread_id = 't'").all();
    expect(JSON.stringify(plan)).toContain('tasks_owner_thread');
    db.close();
    await store.close();
  });

  it('refuses a file written by a newer schema', async () => {
    const path = file();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteTaskStore(path)).toThrow(/schema version 99 is newer/);
    expect(() => new SqliteTaskStore(path, { readonly: true })).toThrow(/schema version 99 is newer/);
  });

  it('I16: allocateIds starts past bg_ ids already in a file from before the counter existed', async () => {
    const path = file();
    const db = new Database(path);
    db.exec(
      'CREATE TABLE tasks (task_id TEXT PRIMARY KEY, owner_thread_id TEXT NOT NULL, status TEXT NOT NULL, record TEXT NOT NULL, writer TEXT)',
    );
    db.prepare('INSERT INTO tasks VALUES (?, ?, ?, ?, NULL)').run(
      'bg_41',
      't',
      'completed',
      JSON.stringify(rec('bg_41')),
    );
    db.close();
    const store = new SqliteTaskStore(path);
    expect(await store.allocateIds(2)).toBe(42);
    await store.close();
  });

  it('a second writer on an owned file is refused at once naming the owner; readers keep reading', async () => {
    const path = file();
    const owner = new SqliteTaskStore(path);
    await owner.put([rec('bg_0')]);
    let err: unknown;
    try {
      new SqliteTaskStore(path, { busyTimeoutMs: 60_000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SqliteStoreError);
    const refused = err as SqliteStoreError;
    expect(refused.code).toBe('owned_elsewhere');
    expect(refused.path).toBe(path);
    expect(refused.owner).toEqual({
      instanceId: owner.instanceId,
      pid: process.pid,
      host: hostname(),
      sinceMs: expect.any(Number),
    });
    expect(refused.message).toContain(path);
    expect(refused.message).toContain(`process ${process.pid}`);
    expect(refused.message).toContain(owner.instanceId);

    const reader = new SqliteTaskStore(path, { readonly: true });
    await owner.put([rec('bg_1', { status: 'completed' })]);
    expect((await reader.load()).map((r) => r.task_id)).toEqual(['bg_0', 'bg_1']);
    await expect(reader.put([rec('bg_2')])).rejects.toMatchObject({ code: 'opened_read_only' });
    await expect(reader.allocateIds(1)).rejects.toMatchObject({ code: 'opened_read_only' });
    await expect(reader.delete(['bg_0'])).rejects.toMatchObject({ code: 'opened_read_only' });
    await reader.close();

    await owner.close();
    const next = new SqliteTaskStore(path);
    expect((await next.load()).map((r) => r.task_id)).toEqual(['bg_0', 'bg_1']);
    await next.close();
  });

  it('a read-only store needs an existing file and reads an empty one as no records', async () => {
    expect(() => new SqliteTaskStore(join(dir, 'missing.db'), { readonly: true })).toThrow(TypeError);
    expect(() => new SqliteTaskStore(':memory:', { readonly: true })).toThrow(TypeError);
    const path = file();
    writeFileSync(path, '');
    const reader = new SqliteTaskStore(path, { readonly: true });
    expect(await reader.load()).toEqual([]);
    await reader.close();
  });

  it('I4/bad input: corrupt rows are reported with id and reason; the good ones load', async () => {
    const path = file();
    const seen: CorruptRecord[] = [];
    const store = new SqliteTaskStore(path, { onCorrupt: (bad) => seen.push(bad) });
    await store.put([rec('bg_0'), rec('bg_1'), rec('bg_2'), rec('bg_3')]);
    const db = new Database(path);
    const set = db.prepare('UPDATE tasks SET record = ? WHERE task_id = ?');
    set.run('{"task_id": "bg_1", oops', 'bg_1');
    set.run(
      JSON.stringify({ task_id: 'bg_2', task_type: 'shell', status: 'running', created_at_ms: 1 }),
      'bg_2',
    );
    set.run(JSON.stringify(rec('bg_9')), 'bg_3');
    db.close();
    expect((await store.load('t')).map((r) => r.task_id)).toEqual(['bg_0']);
    expect(seen.map((b) => b.task_id)).toEqual(['bg_1', 'bg_2', 'bg_3']);
    expect(seen[0]!.reason).toMatch(/^invalid JSON/);
    expect(seen[1]!.reason).toMatch(/`description`/);
    expect(seen[2]!.reason).toMatch(/bg_9/);
    expect(store.lastLoadCorrupt).toEqual(seen);
    await store.load('nobody');
    expect(store.lastLoadCorrupt).toEqual([]);
    await store.close();
  });

  it('I4: a legacy record without owner_thread_id / parent_context loads with defaults', async () => {
    const path = file();
    const store = new SqliteTaskStore(path);
    const legacy = legacyRecord();
    const db = new Database(path);
    db.prepare("INSERT INTO tasks VALUES ('bg_old', '', 'completed', ?, NULL)").run(JSON.stringify(legacy));
    db.close();
    expect(await store.load('')).toEqual([{ ...legacy, owner_thread_id: '', parent_context: {} }]);
    await expect(store.put([{ ...legacy } as unknown as PersistedTaskMeta])).rejects.toThrow(
      /owner_thread_id/,
    );
    await store.close();
  });

  it("after close every method rejects with 'store is closed'", async () => {
    const store = new SqliteTaskStore(':memory:');
    await store.close();
    await expect(store.put([rec('bg_0')])).rejects.toThrow('store is closed');
    await expect(store.load()).rejects.toThrow('store is closed');
    await expect(store.allocateIds(1)).rejects.toThrow('store is closed');
    await expect(store.close()).resolves.toBeUndefined();
  });
});

describe('SqliteTaskStore ownership under other names', () => {
  it('a symlink or a relative path to an owned file is refused too (one lock per real file)', async () => {
    const path = file();
    const owner = new SqliteTaskStore(path);
    const link = join(dir, 'alias.db');
    symlinkSync(path, link);
    expect(() => new SqliteTaskStore(link)).toThrow(expect.objectContaining({ code: 'owned_elsewhere' }));
    expect(() => new SqliteTaskStore(relative(process.cwd(), path))).toThrow(
      expect.objectContaining({ code: 'owned_elsewhere' }),
    );
    await owner.close();
    const viaLink = new SqliteTaskStore(link);
    await viaLink.close();
  });
});
