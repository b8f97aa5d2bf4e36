import { beforeAll, describe, expect, it } from 'vitest';
import { createTaskSupervisor, defineTask } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { durableConformance } from '../../src/testing/index.js';
import { dropTables, pgSuite, pgUrl, requirePostgres, uniqueTable } from '../stores/pgEnv.js';

requirePostgres('test/durable/postgres.test.ts');

/**
 * PostgreSQL's durable rows (`PgDurableStore`) against the real server; the cross-replica
 * takeover is proven in child processes by test/integration/durable-postgres.test.ts.
 */
describe.skipIf(!pgUrl)('durable tasks on PostgreSQL: the rows (issue 21)', () => {
  const db = pgSuite();
  const { pool } = db;
  const table = db.table('durable');
  let store: PostgresTaskStore;

  beforeAll(() => {
    store = db.store(table);
  });

  it('durableConformance passes against the real server (rows, key, claim, fence)', async () => {
    const tables: string[] = [];
    try {
      await durableConformance(() => {
        const t = uniqueTable('dconf');
        tables.push(t);
        return new PostgresTaskStore({ connectionString: pgUrl!, table: t, pollMs: 100 });
      }, 'pg');
    } finally {
      for (const t of tables) await dropTables(pool, t);
    }
  });

  it('a failing attempt is retried and the record keeps every attempt field', async () => {
    const sup = createTaskSupervisor({ store });
    const flaky = defineTask({
      taskType: 'flaky',
      durable: { retry: { initialIntervalMs: 1, jitter: 0, maximumAttempts: 3 } },
      run: async (ctx) => {
        if (ctx.attempt < 2) throw new Error(`boom ${ctx.attempt}`);
        return { attempt: ctx.attempt };
      },
    });
    const id = await flaky.spawn(sup, { threadId: 'T', description: 'f', idempotencyKey: 'k' });
    expect(await flaky.spawn(sup, { threadId: 'T', description: 'f', idempotencyKey: 'k' })).toBe(id);
    const s = await sup.wait(id);
    expect(s.status).toBe('completed');
    expect(s.attempt_errors).toEqual(['boom 1']);
    await sup.stop();
    const [record] = (await store.load('T')).filter((r) => r.task_id === id);
    expect(record).toMatchObject({
      status: 'completed',
      attempt: 2,
      max_attempts: 3,
      attempt_errors: ['boom 1'],
      idempotency_key: 'k',
    });
  });
});
