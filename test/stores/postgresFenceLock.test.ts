import { afterAll, describe, expect, it } from 'vitest';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import type { PutResult } from '../../src/stores/types.js';
import { rec } from '../helpers/records.js';
import { pgSuite, pgUrl, requirePostgres, until } from './pgEnv.js';

requirePostgres('test/stores/postgresFenceLock.test.ts');

/**
 * The fenced put locks its epoch's row so a revocation (the row's DELETE) cannot commit between
 * the put's check and its insert, and nothing more: the updates every live epoch's row gets (lease
 * renewal, the event and control keys) must not hold a put up, nor a put hold them up.
 */
describe.skipIf(!pgUrl)('PostgreSQL fenced put: the lock on its epoch row', () => {
  const { pool, table } = pgSuite({ max: 4 });
  const stores: PostgresTaskStore[] = [];
  const open = () => {
    const t = table('fencelock');
    // Its connections are named, so a test can see them wait in pg_stat_activity.
    const url = new URL(pgUrl!);
    url.searchParams.set('application_name', `fencelock-${t}`);
    const s = new PostgresTaskStore({ connectionString: url.href, table: t });
    stores.push(s);
    return { s, t };
  };

  // Runs before pgSuite's cleanup (after-hooks run last registered first).
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
  });

  /** Whether a backend of this store's pool waits for a lock on a fenced put right now. */
  const putWaitsForLock = async (t: string) =>
    (
      await pool.query(
        `SELECT 1 FROM pg_stat_activity
          WHERE application_name = $1 AND wait_event_type = 'Lock' AND query LIKE 'WITH data AS%'`,
        [`fencelock-${t}`],
      )
    ).rowCount! > 0;

  /** Settles with the put's result, or with 'waits' as soon as the put is seen waiting for a lock. */
  const raceLock = async (t: string, put: Promise<PutResult>): Promise<PutResult | 'waits'> => {
    let result: PutResult | undefined;
    put.then(
      (r) => {
        result = r;
      },
      () => {},
    );
    let waits = false;
    await until(
      async () => {
        if (result !== undefined) return true;
        waits = await putWaitsForLock(t);
        return waits;
      },
      20_000,
      'the put lands or waits for a lock',
    );
    return result ?? 'waits';
  };

  it('a put lands while another transaction holds an update of its epoch row (lease, event key)', async () => {
    const { s, t } = open();
    expect(await s.put([rec('bg_0')])).toEqual({ refused: [] });
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(
        `UPDATE "${t}_epochs" SET expires_at = expires_at + interval '1 second',
           event_key = coalesce(event_key, 0) + 1, control_key = coalesce(control_key, 0) + 1
         WHERE epoch = $1`,
        [s.epoch],
      );
      expect(await raceLock(t, s.put([rec('bg_1'), rec('bg_0', { status: 'completed' })]))).toEqual({
        refused: [],
      });
      await c.query('COMMIT');
    } finally {
      // A failed expectation leaves the transaction open: never hand it back to the pool so.
      await c.query('ROLLBACK').catch(() => {});
      c.release();
    }
    expect((await s.load('t')).map((r) => [r.task_id, r.status])).toEqual([
      ['bg_0', 'completed'],
      ['bg_1', 'running'],
    ]);
  });

  it('a revocation in flight holds the put until it commits; the put then finds its epoch gone and inserts nothing', async () => {
    const { s, t } = open();
    expect(await s.put([rec('bg_0')])).toEqual({ refused: [] });
    const c = await pool.connect();
    let put: Promise<PutResult>;
    try {
      await c.query('BEGIN');
      await c.query(`DELETE FROM "${t}_epochs" WHERE epoch = $1`, [s.epoch]);
      put = s.put([rec('bg_1')]);
      expect(await raceLock(t, put)).toBe('waits');
      await c.query('COMMIT');
    } finally {
      // A failed expectation leaves the transaction open: never hand it back to the pool so.
      await c.query('ROLLBACK').catch(() => {});
      c.release();
    }
    const r = await put;
    expect(r.refused).toEqual([]);
    expect(r.rejected?.get('bg_1')).toMatchObject({ code: 'owner_revoked' });
    expect((await pool.query(`SELECT task_id FROM "${t}" ORDER BY task_id`)).rows).toEqual([
      { task_id: 'bg_0' },
    ]);
  });
});
