import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTaskSupervisor, defineTask } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { dropTables, pgUrl, requirePostgres, uniqueTable } from '../stores/pgEnv.js';

requirePostgres('test/durable/postgres.test.ts');

/**
 * PostgreSQL has no durable rows yet: durable tasks there are retryable in one process (rows in
 * the supervisor's memory), not resumable. This checks that much works through the fenced store.
 */
describe.skipIf(!pgUrl)('durable tasks on PostgreSQL: retryable, not resumable (issue 21)', () => {
  let pool: pg.Pool;
  const table = uniqueTable('durable');
  let store: PostgresTaskStore;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: pgUrl });
    store = new PostgresTaskStore({ connectionString: pgUrl!, table, pollMs: 100 });
  });
  afterAll(async () => {
    await store.close();
    await dropTables(pool, table);
    await pool.end();
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
