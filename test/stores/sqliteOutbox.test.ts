import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-sqlite-outbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SqliteTaskStore messaging tables', () => {
  it('P19 reading messages of a file that never held one creates nothing (a read-only file stays readable)', async () => {
    const path = join(dir, 'plain.db');
    const writer = new SqliteTaskStore(path);
    await writer.put([]);
    await writer.close();
    const store = new SqliteTaskStore(path);
    expect(await store.messages.pending('t')).toEqual([]);
    expect(await store.messages.takeDelivered('t')).toEqual([]);
    expect(await store.messages.deadLetters('t')).toEqual([]);
    expect(await store.messages.deadLetterCount()).toBe(0);
    await store.close();
    const raw = new Database(path, { readonly: true });
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'message_%'").all();
    raw.close();
    expect(tables).toEqual([]);
  });

  it('P19 entries survive reopening the file (queued means durable)', async () => {
    const path = join(dir, 'durable.db');
    const a = new SqliteTaskStore(path);
    const req = {
      message_id: 'm1',
      recipient_thread_id: 'r',
      recipient_agent_id: null,
      sender_agent_id: 's',
      message: 'hi',
    };
    await a.messages.enqueue('t', { id: 'm1', route: { Durable: req }, attempts: 2 });
    await a.close();
    const b = new SqliteTaskStore(path);
    expect(await b.messages.pending('t')).toEqual([{ id: 'm1', route: { Durable: req }, attempts: 2 }]);
    await expect(b.close().then(() => b.messages.pending('t'))).rejects.toThrow('store is closed');
  });
});
