import { SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { createTaskSupervisor, defineTask, type TaskContext, type TaskSupervisor } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { type Gate, gate } from '../helpers/async.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/durable/slots-postgres.test.ts');

const MINUTE = 60_000;

/**
 * Two replicas on one table with `concurrency.perType.job = 1` (a limit held across replicas by
 * shared slots): a durable task backing off on one replica gives its type's shared slot back.
 */
describe.skipIf(!pgUrl)('a durable task backing off holds no shared slot (PostgreSQL replicas)', () => {
  const { pool, table: newTable } = pgSuite({ max: 2 });
  let open: { store: PostgresTaskStore; sup: TaskSupervisor }[] = [];

  afterEach(async () => {
    for (const o of open) {
      await o.sup.stop();
      await o.store.close();
    }
    open = [];
  });

  it('limit 1 across two replicas: A fails and backs off on replica 1, B of the same type runs on replica 2 meanwhile; A then waits for the slot B holds and runs after it', async () => {
    const table = newTable('dslots');
    // Replica 1 runs on a simulated clock (its backoff takes no wall time); its `now` stays near
    // the real one, which the store's leases use.
    const clock = new SimulatedClock();
    const base = Date.now();
    const replica = (simulated: boolean) => {
      const store = new PostgresTaskStore({ connectionString: pgUrl!, table, pollMs: 100 });
      const sup = createTaskSupervisor({
        store,
        concurrency: { perType: { job: 1 } },
        ...(simulated ? { clock, now: () => base + clock.now() } : {}),
      });
      open.push({ store, sup });
      return sup;
    };
    const r1 = replica(true);
    const r2 = replica(false);
    const state = { running: 0, max: 0, started: [] as string[] };
    const gates = new Map<string, Gate>();
    const gateOf = (key: string): Gate => {
      let g = gates.get(key);
      if (g === undefined) gates.set(key, (g = gate()));
      return g;
    };
    const run = async (key: string, signal: AbortSignal): Promise<void> => {
      state.started.push(key);
      state.running++;
      state.max = Math.max(state.max, state.running);
      try {
        await Promise.race([
          gateOf(key).promise,
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        ]);
      } finally {
        state.running--;
      }
    };
    const job = defineTask<Record<never, never>, Record<never, never>, number>({
      taskType: 'job',
      durable: { retry: { maximumAttempts: 2, initialIntervalMs: MINUTE, jitter: 0 } },
      run: async (ctx) => {
        await run(`a#${ctx.attempt}`, ctx.signal);
        if (ctx.attempt === 1) throw new Error('first attempt fails');
        return ctx.attempt;
      },
    });
    const plain = (key: string) => async (ctx: TaskContext) => {
      await run(key, ctx.signal);
      return key;
    };

    const a = await job.spawn(r1, { threadId: 't', description: 'a' }, {});
    await until(() => state.started.includes('a#1'), 10_000, 'attempt 1 of a');
    gateOf('a#1').open();
    await until(() => r1.get(a)?.phase === 'retrying', 10_000, 'a retrying');

    // B of the same type on the other replica gets the type's only shared slot during a's backoff.
    const b = await r2.spawn({ threadId: 't2', taskType: 'job', description: 'b' }, plain('b'));
    await until(() => state.started.includes('b'), 10_000, 'b started on replica 2 during the backoff');

    // a's backoff ends while b holds the shared slot: a waits, queued.
    clock.increment(MINUTE);
    await until(() => r1.get(a)?.phase === 'queued', 10_000, 'a queued for the slot');
    expect(state.started).toEqual(['a#1', 'b']);
    gateOf('b').open();
    expect((await r2.wait(b)).status).toBe('completed');
    await until(() => state.started.includes('a#2'), 10_000, 'attempt 2 of a once b gave the slot back');
    gateOf('a#2').open();
    const s = await r1.wait(a);
    expect(s.status).toBe('completed');
    expect(s.result).toBe(2);
    expect(s.attempt_errors).toEqual(['first attempt fails']);
    expect(state.max).toBe(1);
    // The shared slot is given back when the task is final (a DELETE sent beside its terminal
    // record's write, not before it), so the wait above can resolve a moment before the row goes.
    const held = async () => (await pool.query(`SELECT count(*)::int AS n FROM "${table}_slots"`)).rows[0].n;
    await until(async () => (await held()) === 0, 10_000, 'the shared slot given back');
    expect(await held()).toBe(0);
  }, 60_000);
});
