import type { Pool, PoolClient } from 'pg';

/** Clients whose transaction could not be rolled back, with why: destroyed on release, not reused. */
const broken = new WeakMap<PoolClient, Error>();

/**
 * A client of `pool` for statements that must share a connection (a transaction). pg-pool takes
 * its own `error` listener off a client it hands out, and a client emits `error` when its
 * connection is lost: with no listener that event would throw from the socket's callback (an
 * uncaught exception, fatal to the process) besides failing the statement in progress. This
 * client ignores the event until released: the failed statement (or the next one) reports the
 * loss, and the pool drops the broken client on release. A client {@link rollback} could not roll
 * back is dropped on release too.
 *
 * @example
 * const client = await checkout(pool);
 * try {
 *   await client.query('BEGIN');
 *   await client.query('COMMIT');
 * } catch (e) {
 *   await rollback(client);
 *   throw e;
 * } finally {
 *   client.release();
 * }
 */
export async function checkout(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  const ignore = (): void => undefined;
  client.on('error', ignore);
  const release = client.release;
  client.release = (err?: Error | boolean) => {
    client.removeListener('error', ignore);
    const why = broken.get(client);
    broken.delete(client);
    release(err ?? why);
  };
  return client;
}

/**
 * Rolls back `client`'s transaction. When even that fails (the connection is gone, or a
 * statement that timed out on the client still runs in the server, so the `ROLLBACK` never ran),
 * the connection may still hold the transaction and its locks: its release destroys it instead of
 * handing it to the next caller.
 *
 * @example
 * await rollback(client);
 */
export async function rollback(client: PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
  } catch (e) {
    broken.set(client, e instanceof Error ? e : new Error(String(e)));
  }
}
