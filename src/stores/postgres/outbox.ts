import type { Pool, PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type {
  DeadLetter,
  DeliveredMessage,
  DurableMessageRequest,
  OutboxEntry,
} from '../../wire/messaging.js';
import {
  type DispatchVerdict,
  type MessageOutboxStore,
  checkIds,
  checkThreadId,
  DELIVERED_RETENTION,
  letterFromStored,
} from '../outbox.js';
import { checkout, rollback } from './checkout.js';

type EntryRow = { id: string; route: OutboxEntry['route']; attempts: number };

/**
 * The outbox, dead letters and reference mailbox on PostgreSQL (the `messages` member of
 * `PostgresTaskStore`), shared by every replica on the database. `dispatch` claims each entry with
 * `SELECT … FOR UPDATE SKIP LOCKED` and keeps the row locked until the verdict is committed, so
 * two replicas never hand one entry to a sink or a child at the same time; a replica that dies
 * mid-delivery releases the lock with its connection and the entry stays pending.
 *
 * @example
 * const outbox = new PostgresTaskStore({ connectionString }).messages;
 * await outbox.dispatch('thread-1', async (entry) => ({ kind: 'remove' }));
 */
export class PostgresMessageOutbox implements MessageOutboxStore {
  readonly #pool: Pool;
  readonly #open: () => Promise<void>;
  readonly #outbox: string;
  readonly #dead: string;
  readonly #delivered: string;
  readonly #sent: string;
  readonly #lockKey: string;
  #ready: Promise<void> | undefined;

  /** `table` is the store's base table name; `open` rejects when the store is closed. */
  constructor(pool: Pool, table: string, open: () => Promise<void>) {
    this.#pool = pool;
    this.#open = open;
    this.#outbox = `"${table}_outbox"`;
    this.#dead = `"${table}_dead_letters"`;
    this.#delivered = `"${table}_delivered"`;
    this.#sent = `"${table}_sent"`;
    this.#lockKey = `awaken-tasks:${table}:messages`;
  }

  async enqueue(threadId: string, entry: OutboxEntry): Promise<boolean> {
    await this.#use(threadId);
    const res = await this.#pool.query(
      `INSERT INTO ${this.#outbox} (thread_id, id, route, attempts) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [threadId, entry.id, JSON.stringify(entry.route), entry.attempts],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async pending(threadId: string): Promise<OutboxEntry[]> {
    await this.#use(threadId);
    const res = await this.#pool.query<EntryRow>(
      `SELECT id, route, attempts FROM ${this.#outbox} WHERE thread_id = $1 ORDER BY seq`,
      [threadId],
    );
    return res.rows.map(toEntry);
  }

  async remove(threadId: string, id: string): Promise<boolean> {
    await this.#use(threadId);
    return this.#remove(this.#pool, threadId, id);
  }

  async retry(threadId: string, id: string): Promise<boolean> {
    await this.#use(threadId);
    return this.#retry(this.#pool, threadId, id);
  }

  async deadLetter(threadId: string, id: string, error: string): Promise<boolean> {
    await this.#use(threadId);
    return this.#deadLetter(this.#pool, threadId, id, String(error));
  }

  async deadLetters(threadId: string): Promise<DeadLetter[]> {
    await this.#use(threadId);
    const res = await this.#pool.query<DeadLetter>(
      `SELECT request, error FROM ${this.#dead} WHERE thread_id = $1 ORDER BY seq`,
      [threadId],
    );
    return res.rows.map((r) => letterFromStored(r.request, r.error));
  }

  async deadLetterCount(threadId?: string): Promise<number> {
    await this.#use(threadId ?? '');
    const res =
      threadId === undefined
        ? await this.#pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.#dead}`)
        : await this.#pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${this.#dead} WHERE thread_id = $1`,
            [threadId],
          );
    return Number(res.rows[0]!.n);
  }

  async replay(threadId: string, messageIds: readonly string[]): Promise<number> {
    checkIds(messageIds);
    await this.#use(threadId);
    // One statement: the deleted dead letters are exactly the ones re-enqueued, in their order.
    const res = await this.#pool.query<{ n: string }>(
      `WITH moved AS (
         DELETE FROM ${this.#dead} WHERE thread_id = $1 AND message_id = ANY($2::text[])
         RETURNING seq, message_id, request
       ), ins AS (
         INSERT INTO ${this.#outbox} (thread_id, id, route, attempts)
         SELECT $1, message_id,
                CASE WHEN request ? 'task_id'
                  THEN jsonb_build_object('ChildInbox', jsonb_build_object(
                         'task_id', request->'task_id', 'owner_thread_id', request->'recipient_thread_id',
                         'sender_agent_id', request->'sender_agent_id', 'message', request->'message'))
                  ELSE jsonb_build_object('Durable', request) END,
                0
         FROM moved ORDER BY seq
         ON CONFLICT DO NOTHING
       )
       SELECT count(*) AS n FROM moved`,
      [threadId, [...messageIds]],
    );
    return Number(res.rows[0]!.n);
  }

  async clear(threadId: string, messageIds: readonly string[]): Promise<number> {
    checkIds(messageIds);
    await this.#use(threadId);
    const res = await this.#pool.query(
      `DELETE FROM ${this.#dead} WHERE thread_id = $1 AND message_id = ANY($2::text[])`,
      [threadId, [...messageIds]],
    );
    return res.rowCount ?? 0;
  }

  async dispatch(
    threadId: string,
    deliver: (entry: OutboxEntry) => Promise<DispatchVerdict>,
  ): Promise<number> {
    let handled = 0;
    for (const seen of await this.pending(threadId)) {
      const client = await checkout(this.#pool);
      try {
        await client.query('BEGIN');
        const res = await client.query<EntryRow>(
          `SELECT id, route, attempts FROM ${this.#outbox} WHERE thread_id = $1 AND id = $2 AND attempts = $3
           FOR UPDATE SKIP LOCKED`,
          [threadId, seen.id, seen.attempts],
        );
        const row = res.rows[0];
        if (row === undefined) {
          await client.query('COMMIT');
          continue;
        }
        handled++;
        const verdict = await deliver(toEntry(row));
        if (verdict.kind === 'remove') await this.#remove(client, threadId, row.id);
        else if (verdict.kind === 'retry') await this.#retry(client, threadId, row.id);
        else await this.#deadLetter(client, threadId, row.id, verdict.error);
        await client.query('COMMIT');
      } catch (e) {
        await rollback(client);
        throw e;
      } finally {
        client.release();
      }
    }
    return handled;
  }

  async deliver(request: DurableMessageRequest): Promise<string> {
    await this.#use(request.recipient_thread_id);
    const res = await this.#pool.query<{ dispatch_id: string }>(
      `WITH ins AS (
         INSERT INTO ${this.#delivered} (message_id, dispatch_id, recipient_thread_id, request)
         VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING RETURNING dispatch_id
       )
       SELECT dispatch_id FROM ins UNION ALL
       SELECT dispatch_id FROM ${this.#delivered} WHERE message_id = $1 LIMIT 1`,
      [request.message_id, uuidv7(), request.recipient_thread_id, JSON.stringify(request)],
    );
    if (res.rows[0] !== undefined) return res.rows[0].dispatch_id;
    // A concurrent first delivery committed after this statement's snapshot: read it now.
    const again = await this.#pool.query<{ dispatch_id: string }>(
      `SELECT dispatch_id FROM ${this.#delivered} WHERE message_id = $1`,
      [request.message_id],
    );
    return again.rows[0]!.dispatch_id;
  }

  async takeDelivered(threadId: string): Promise<DeliveredMessage[]> {
    await this.#use(threadId);
    const res = await this.#pool.query<{ seq: string; request: DurableMessageRequest; dispatch_id: string }>(
      `UPDATE ${this.#delivered} SET taken = true WHERE recipient_thread_id = $1 AND NOT taken
       RETURNING seq, request, dispatch_id`,
      [threadId],
    );
    return res.rows
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((r) => ({ ...r.request, dispatch_id: r.dispatch_id }));
  }

  async delivered(threadId: string): Promise<DeliveredMessage[]> {
    await this.#use(threadId);
    const res = await this.#pool.query<{ request: DurableMessageRequest; dispatch_id: string }>(
      `SELECT request, dispatch_id FROM ${this.#delivered} WHERE recipient_thread_id = $1 ORDER BY seq`,
      [threadId],
    );
    return res.rows.map((r) => ({ ...r.request, dispatch_id: r.dispatch_id }));
  }

  async #remove(db: Pool | PoolClient, threadId: string, id: string): Promise<boolean> {
    const res = await db.query<{ n: string }>(
      `WITH gone AS (
         DELETE FROM ${this.#outbox} WHERE thread_id = $1 AND id = $2 RETURNING id
       ), sent AS (
         INSERT INTO ${this.#sent} (thread_id, id) SELECT $1, id FROM gone
         ON CONFLICT (thread_id, id) DO UPDATE SET seq = nextval(pg_get_serial_sequence('${this.#sent}', 'seq'))
       ), pruned AS (
         DELETE FROM ${this.#sent} WHERE EXISTS (SELECT 1 FROM gone)
           AND seq <= (SELECT max(seq) FROM ${this.#sent}) - $3
       )
       SELECT count(*) AS n FROM gone`,
      [threadId, id, DELIVERED_RETENTION],
    );
    return Number(res.rows[0]!.n) > 0;
  }

  async wasDelivered(threadId: string, id: string): Promise<boolean> {
    await this.#use(threadId);
    const res = await this.#pool.query(`SELECT 1 FROM ${this.#sent} WHERE thread_id = $1 AND id = $2`, [
      threadId,
      id,
    ]);
    return (res.rowCount ?? 0) > 0;
  }

  async #retry(db: Pool | PoolClient, threadId: string, id: string): Promise<boolean> {
    const res = await db.query(
      `UPDATE ${this.#outbox} SET attempts = attempts + 1,
         seq = nextval(pg_get_serial_sequence('${this.#outbox}', 'seq'))
       WHERE thread_id = $1 AND id = $2`,
      [threadId, id],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async #deadLetter(db: Pool | PoolClient, threadId: string, id: string, error: string): Promise<boolean> {
    const res = await db.query<{ n: string }>(
      `WITH gone AS (
         DELETE FROM ${this.#outbox} WHERE thread_id = $1 AND id = $2 RETURNING route
       ), ins AS (
         INSERT INTO ${this.#dead} (thread_id, message_id, request, error)
         SELECT $1, $2,
                CASE WHEN route ? 'Durable' THEN route->'Durable'
                  ELSE jsonb_build_object(
                         'message_id', $2::text, 'recipient_thread_id', route->'ChildInbox'->'owner_thread_id',
                         'recipient_agent_id', NULL, 'sender_agent_id', route->'ChildInbox'->'sender_agent_id',
                         'message', route->'ChildInbox'->'message', 'task_id', route->'ChildInbox'->'task_id') END,
                $3
         FROM gone
         ON CONFLICT (thread_id, message_id) DO UPDATE SET request = excluded.request, error = excluded.error
         RETURNING 1
       )
       SELECT count(*) AS n FROM ins`,
      [threadId, id, error],
    );
    return Number(res.rows[0]!.n) > 0;
  }

  async #use(threadId: string): Promise<void> {
    checkThreadId(threadId);
    await this.#open();
    this.#ready ??= this.#createTables().catch((e: unknown) => {
      this.#ready = undefined;
      throw e;
    });
    await this.#ready;
  }

  async #createTables(): Promise<void> {
    const client = await checkout(this.#pool);
    try {
      await client.query('BEGIN');
      // Replicas starting together must not race on CREATE TABLE IF NOT EXISTS (pg_type conflicts).
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.#lockKey]);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.#outbox} (
          seq BIGSERIAL PRIMARY KEY, thread_id TEXT NOT NULL, id TEXT NOT NULL,
          route JSONB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, UNIQUE (thread_id, id));
        CREATE TABLE IF NOT EXISTS ${this.#dead} (
          seq BIGSERIAL PRIMARY KEY, thread_id TEXT NOT NULL, message_id TEXT NOT NULL,
          request JSONB NOT NULL, error TEXT NOT NULL, UNIQUE (thread_id, message_id));
        CREATE TABLE IF NOT EXISTS ${this.#delivered} (
          seq BIGSERIAL PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, dispatch_id TEXT NOT NULL,
          recipient_thread_id TEXT NOT NULL, request JSONB NOT NULL, taken BOOLEAN NOT NULL DEFAULT false);
        CREATE TABLE IF NOT EXISTS ${this.#sent} (
          seq BIGSERIAL PRIMARY KEY, thread_id TEXT NOT NULL, id TEXT NOT NULL, UNIQUE (thread_id, id));
      `);
      await client.query('COMMIT');
    } catch (e) {
      await rollback(client);
      throw e;
    } finally {
      client.release();
    }
  }
}

function toEntry(r: EntryRow): OutboxEntry {
  return { id: r.id, route: r.route, attempts: r.attempts };
}
