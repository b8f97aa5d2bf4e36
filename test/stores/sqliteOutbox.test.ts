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

  it('P19 a file written before message_sent existed, opened read-only: its messages read, nothing counts as delivered until the owner makes the table', async () => {
    const path = join(dir, 'old.db');
    const req = (id: string) => ({
      message_id: id,
      recipient_thread_id: 'r',
      recipient_agent_id: null,
      sender_agent_id: 's',
      message: `hi ${id}`,
    });
    const writer = new SqliteTaskStore(path);
    for (const id of ['m1', 'm2', 'm3'])
      await writer.messages.enqueue('t', { id, route: { Durable: req(id) }, attempts: 0 });
    expect(await writer.messages.deadLetter('t', 'm3', 'no route')).toBe(true);
    await writer.messages.deliver(req('m4'));
    await writer.close();
    // The file as an older version left it: the other message tables, no message_sent.
    const raw = new Database(path);
    raw.exec('DROP TABLE message_sent');
    raw.close();

    const reader = new SqliteTaskStore(path, { readonly: true });
    expect((await reader.messages.pending('t')).map((e) => e.id)).toEqual(['m1', 'm2']);
    expect(await reader.messages.wasDelivered('t', 'm1')).toBe(false);
    expect((await reader.messages.deadLetters('t')).map((d) => d.request.message_id)).toEqual(['m3']);
    expect(await reader.messages.deadLetterCount()).toBe(1);
    expect((await reader.messages.delivered('r')).map((d) => d.message_id)).toEqual(['m4']);

    // The owner of the file (a newer version) makes the table on its first message write; the
    // open reader sees the sent mark then.
    const owner = new SqliteTaskStore(path);
    expect(await owner.messages.remove('t', 'm1')).toBe(true);
    expect(await owner.messages.wasDelivered('t', 'm1')).toBe(true);
    expect(await reader.messages.wasDelivered('t', 'm1')).toBe(true);
    expect(await reader.messages.wasDelivered('t', 'm2')).toBe(false);
    expect((await reader.messages.pending('t')).map((e) => e.id)).toEqual(['m2']);
    await owner.close();
    await reader.close();
  });
});
