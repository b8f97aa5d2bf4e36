import type { Pool, PoolClient } from 'pg';

/**
 * A client of `pool` for statements that must share a connection (a transaction). pg-pool takes
 * its own `error` listener off a client it hands out, and a client emits `error` when its
 * connection is lost: with no listener that event would throw from the socket's callback (an
 * uncaught exception, fatal to the process) besides failing the statement in progress. This
 * client ignores the event until released: the failed statement (or the next one) reports the
 * loss, and the pool drops the broken client on release.
 */
export async function checkout(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  const ignore = (): void => undefined;
  client.on('error', ignore);
  const release = client.release;
  client.release = (err?: Error | boolean) => {
    client.removeListener('error', ignore);
    release(err);
  };
  return client;
}
