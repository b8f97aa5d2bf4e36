import { describe, expect, it } from 'vitest';
import { createTaskSupervisor, defineTask, ORPHAN_ERROR } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { tableNames } from '../../src/stores/postgres/schema.js';
import { opts, parked } from '../helpers/async.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/durable/postgres-adopt-orphans.test.ts');

describe.skipIf(!pgUrl)('the durable takeover sweep reaps a dead replica whole (issue 21, 22)', () => {
  const { pool, table: newTable } = pgSuite({ max: 2 });

  it('a dead epoch revoked by the sweep has its plain tasks orphaned at once, without a loadThread of their thread', async () => {
    const table = newTable('dreap');
    const n = tableNames(table);
    const store = new PostgresTaskStore({ connectionString: pgUrl!, table, pollMs: 100 });
    const sup = createTaskSupervisor({ store });
    try {
      const plain = await sup.spawn(opts({ threadId: 'T' }), parked);
      await until(
        async () => (await pool.query(`SELECT 1 FROM ${n.tasks} WHERE task_id = $1`, [plain])).rowCount === 1,
        5_000,
        'plain task stored',
      );
      // A replica that died: its epoch's lease ran out an hour ago and it held no lock; the plain
      // task is its.
      await pool.query(
        `INSERT INTO ${n.epochs} (epoch, instance_id, lock_id, expires_at)
         VALUES ('dead-epoch', 'gone', NULL, now() - interval '1 hour')`,
      );
      await pool.query(`UPDATE ${n.tasks} SET owner_epoch = 'dead-epoch' WHERE task_id = $1`, [plain]);
      // Registering a durable type starts the takeover sweep, which revokes the dead epoch.
      const job = defineTask<Record<never, never>, Record<never, never>, null>({
        taskType: 'job',
        durable: {},
        run: async () => null,
      });
      await sup.register(job);
      await until(
        async () => (await pool.query(`SELECT 1 FROM ${n.epochs} WHERE epoch = 'dead-epoch'`)).rowCount === 0,
        5_000,
        'dead epoch revoked',
      );
      const row = await pool.query<{ status: string }>(`SELECT status FROM ${n.tasks} WHERE task_id = $1`, [
        plain,
      ]);
      expect(row.rows[0]?.status).toBe('failed');
      const events = await pool.query<{ body: string }>(`SELECT body FROM ${n.events} WHERE task_id = $1`, [
        plain,
      ]);
      expect(events.rows.map((r) => JSON.parse(r.body))).toContainEqual({
        kind: 'failed',
        task_id: plain,
        error: ORPHAN_ERROR,
      });
    } finally {
      await sup.stop();
      await store.close();
    }
  }, 30_000);
});
