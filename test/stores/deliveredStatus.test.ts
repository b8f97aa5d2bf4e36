import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { messageDeliveryStatus } from '../../src/agent/index.js';
import { DELIVERED_RETENTION, MemoryMessageOutbox } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import type { OutboxEntry } from '../../src/wire/messaging.js';
import { dropTables, pgUrl, requirePostgres, uniqueTable } from './pgEnv.js';

requirePostgres('test/stores/deliveredStatus.test.ts');

const dir = mkdtempSync(join(tmpdir(), 'awaken-delivered-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (id: string): OutboxEntry => ({
  id,
  route: {
    Durable: {
      message_id: id,
      recipient_thread_id: 'r',
      recipient_agent_id: null,
      sender_agent_id: 's',
      message: 'm',
    },
  },
  attempts: 0,
});

describe('issue 24: delivered status from the store', () => {
  it('memory: the last DELIVERED_RETENTION removed ids are kept, older ones forgotten', async () => {
    const o = new MemoryMessageOutbox();
    for (let i = 0; i <= DELIVERED_RETENTION; i++) {
      await o.enqueue('t', entry(`m${i}`));
      await o.remove('t', `m${i}`);
    }
    expect(await o.wasDelivered('t', 'm0')).toBe(false);
    expect(await o.wasDelivered('t', 'm1')).toBe(true);
    expect(await o.wasDelivered('t', `m${DELIVERED_RETENTION}`)).toBe(true);
  });

  it('SQLite: the file answers delivered after reopening; the oldest beyond the retention is pruned', async () => {
    const path = join(dir, 'sent.db');
    const a = new SqliteTaskStore(path);
    expect(await a.messages.wasDelivered?.('t', 'm1')).toBe(false);
    await a.messages.enqueue('t', entry('m1'));
    await a.messages.dispatch('t', async () => ({ kind: 'remove' }));
    await a.close();
    // Push m1 to the retention's edge: the next removal forgets it.
    const raw = new Database(path);
    raw
      .prepare('INSERT INTO message_sent (seq, thread_id, id) VALUES (?, ?, ?)')
      .run(DELIVERED_RETENTION + 1, 't', 'mid');
    raw.close();
    const b = new SqliteTaskStore(path);
    expect(await messageDeliveryStatus(b.messages, 't', 'm1')).toEqual({
      message_id: 'm1',
      status: 'delivered',
    });
    await b.messages.enqueue('t', entry('m2'));
    await b.messages.remove('t', 'm2');
    expect(await b.messages.wasDelivered?.('t', 'm1')).toBe(false);
    expect(await b.messages.wasDelivered?.('t', 'mid')).toBe(true);
    expect(await b.messages.wasDelivered?.('t', 'm2')).toBe(true);
    await b.close();
  });

  it.runIf(pgUrl !== undefined)(
    'PostgreSQL: another replica answers delivered; the oldest beyond the retention is pruned',
    async () => {
      const pool = new pg.Pool({ connectionString: pgUrl });
      const table = uniqueTable('sent');
      const a = new PostgresTaskStore({ pool, table });
      const b = new PostgresTaskStore({ pool, table });
      try {
        await a.messages.enqueue('t', entry('m1'));
        await a.messages.dispatch('t', async () => ({ kind: 'remove' }));
        expect(await messageDeliveryStatus(b.messages, 't', 'm1')).toEqual({
          message_id: 'm1',
          status: 'delivered',
        });
        await pool.query(`INSERT INTO "${table}_sent" (seq, thread_id, id) VALUES ($1, 't', 'mid')`, [
          DELIVERED_RETENTION + 5,
        ]);
        await a.messages.enqueue('t', entry('m2'));
        await a.messages.remove('t', 'm2');
        expect(await b.messages.wasDelivered?.('t', 'm1')).toBe(false);
        expect(await b.messages.wasDelivered?.('t', 'mid')).toBe(true);
        expect(await b.messages.wasDelivered?.('t', 'm2')).toBe(true);
      } finally {
        await a.close();
        await b.close();
        await dropTables(pool, table);
        await pool.end();
      }
    },
  );
});
