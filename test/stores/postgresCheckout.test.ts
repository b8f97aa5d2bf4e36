import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { checkout, rollback } from '../../src/stores/postgres/checkout.js';
import { reapDead } from '../../src/stores/postgres/orphan.js';
import { tableNames } from '../../src/stores/postgres/schema.js';
import { rec } from '../helpers/records.js';
import { startTcpProxy } from '../helpers/tcpProxy.js';
import { pgSuite, pgUrl, requirePostgres, until } from './pgEnv.js';

requirePostgres('test/stores/postgresCheckout.test.ts');

/**
 * A connection lost while the store holds a client of its pool for a transaction (the reaper's,
 * here) fails that transaction's statement; it must not also surface as an uncaught exception
 * (the client's `error` event, which pg-pool leaves without a listener while a client is out).
 */
describe.skipIf(!pgUrl)('PostgreSQL: a connection lost inside a transaction', () => {
  const db = pgSuite();
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  afterEach(() => {
    process.off('uncaughtException', onUncaught);
  });

  it('rejects the statement in progress, and nothing is thrown from the lost client', async () => {
    process.on('uncaughtException', onUncaught);
    const t = db.table('checkout');
    // The tables, made directly.
    await db.store(t, { leaseMs: 60_000 }).put([rec('bg_0')]);
    const target = new URL(pgUrl!);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const via = new URL(pgUrl!);
    via.host = `127.0.0.1:${proxy.port}`;
    const pool = new pg.Pool({ connectionString: via.toString(), max: 2 });
    // An idle client's loss reaches the pool: that one is handled (the store's pools do the same).
    pool.on('error', () => undefined);
    const holder = await db.pool.connect();
    try {
      // The reaper's DELETE waits for this lock, inside its transaction, on a client it holds.
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE "${t}_epochs" IN ACCESS EXCLUSIVE MODE`);
      const reaping = reapDead(pool, tableNames(t), 10_000);
      reaping.catch(() => undefined);
      await until(
        async () =>
          (
            await db.pool.query(
              `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH dead AS%' AND query LIKE $1`,
              [`%${t}_epochs%`],
            )
          ).rowCount === 1,
        10_000,
        "the reaper's transaction to wait for the lock",
      );
      proxy.block();
      await expect(reaping).rejects.toThrow(/Connection terminated/);
      // The socket's end is handled after the statement's rejection: let it run.
      await new Promise((r) => setImmediate(r));
      expect(uncaught).toEqual([]);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
      proxy.unblock();
      await pool.end().catch(() => undefined);
      await proxy.close();
    }
  });

  it('a transaction that could not be rolled back (its statement timed out on the client) is not handed to the next caller', async () => {
    const key = 424_000 + Math.floor(Math.random() * 1_000);
    const pool = new pg.Pool({ connectionString: pgUrl!, max: 1, query_timeout: 300 });
    pool.on('error', () => undefined);
    try {
      const client = await checkout(pool);
      const first = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [key]);
      // Still running in the server when the client gives up on it; the ROLLBACK queued behind it
      // times out too, never having run: the connection still holds the transaction and its lock.
      await expect(client.query('SELECT pg_sleep(2)')).rejects.toThrow(/timeout/i);
      await rollback(client);
      client.release();
      // The pool's one connection is a new one, outside any transaction.
      const next = (
        await pool.query<{ pid: number; open: boolean }>(
          `SELECT pg_backend_pid() AS pid, now() <> statement_timestamp() AS open`,
        )
      ).rows[0]!;
      expect(next.pid).not.toBe(first);
      expect(next.open).toBe(false);
      // And the lock the old transaction held goes with its connection.
      await until(
        async () =>
          (
            await db.pool.query(
              `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted`,
              [key],
            )
          ).rowCount === 0,
        10_000,
        "the old transaction's lock released",
      );
    } finally {
      await pool.end().catch(() => undefined);
    }
  });
});
