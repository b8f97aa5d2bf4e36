import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { reapDead } from '../../src/stores/postgres/orphan.js';
import { tableNames } from '../../src/stores/postgres/schema.js';
import { rec } from '../helpers/records.js';
import { pgSuite, pgUrl, requirePostgres } from './pgEnv.js';

requirePostgres('test/stores/postgresReap.test.ts');

/** The orphaning statement (`orphanOwnerless`) starts with this. */
const ORPHANING = 'WITH orph AS';

/**
 * `pool`, where the next orphaning statement fails as a connection cut between the revocation and
 * the orphaning would: on the pool and on every client it hands out.
 */
function cutBeforeOrphaning(pool: pg.Pool): pg.Pool {
  let armed = true;
  const fail = (text: unknown) => {
    if (armed && typeof text === 'string' && text.startsWith(ORPHANING)) {
      armed = false;
      throw new Error('Connection terminated unexpectedly');
    }
  };
  const wrapQuery =
    <T extends { query: (...a: never[]) => unknown }>(target: T) =>
    (...args: unknown[]) => {
      fail(args[0]);
      return (target.query as (...a: unknown[]) => unknown)(...args);
    };
  return new Proxy(pool, {
    get(target, key, receiver) {
      if (key === 'query') return wrapQuery(target);
      if (key === 'connect') {
        return async () => {
          const client = await target.connect();
          return new Proxy(client, {
            get: (c, k, r) => (k === 'query' ? wrapQuery(c) : Reflect.get(c, k, r)),
          });
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

describe.skipIf(!pgUrl)('PostgreSQL: reaping a dead replica', () => {
  const { pool, table } = pgSuite({ max: 4 });

  it('a cut between revoking the epoch and orphaning its tasks undoes both: the next reaper does both, nothing stays running', async () => {
    const t = table('reap');
    const dead = new PostgresTaskStore({ connectionString: pgUrl!, table: t, leaseMs: 60_000 });
    await dead.put([rec('bg_0'), rec('bg_1')]);
    const epoch = dead.epoch;
    // Its lease lapses by the database clock (a stalled process).
    await pool.query(`UPDATE "${t}_epochs" SET expires_at = now() - interval '1 second' WHERE epoch = $1`, [
      epoch,
    ]);
    const names = tableNames(t);
    await expect(reapDead(cutBeforeOrphaning(pool), names, 10_000)).rejects.toThrow(/terminated/);
    const running = async () =>
      (await pool.query(`SELECT task_id FROM "${t}" WHERE status = 'running' ORDER BY task_id`)).rows;
    // Nothing half done: the epoch is still there to be judged dead again, its tasks still running.
    expect((await pool.query(`SELECT epoch FROM "${t}_epochs" WHERE epoch = $1`, [epoch])).rowCount).toBe(1);
    expect(await running()).toEqual([{ task_id: 'bg_0' }, { task_id: 'bg_1' }]);
    // The next reaper revokes it and orphans its tasks.
    expect(await reapDead(pool, names, 10_000)).toEqual([epoch]);
    expect(await running()).toEqual([]);
    expect(
      (await pool.query(`SELECT task_id, status FROM "${t}" ORDER BY task_id`)).rows.map((r) => r.status),
    ).toEqual(['failed', 'failed']);
    await dead.close().catch(() => undefined);
  });
});
