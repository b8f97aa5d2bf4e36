import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import {
  createTaskSupervisor,
  defineTask,
  NonRetryableError,
  type TaskSummary,
  type TaskSupervisor,
} from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { type DurableAttemptOutcome, durableModel } from '../../src/testing/index.js';
import { assertWithSeed, runsFor } from './seed.js';

type Outcome = DurableAttemptOutcome;

const dir = mkdtempSync(join(tmpdir(), 'awaken-durable-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/**
 * Runs one task on a SQLite file against the model. A `crash` attempt abandons its supervisor
 * mid-body (never stopped, its store closed under it) and a new supervisor on the same file
 * registers the type: the restart path. Checks the final record and the start ledger.
 */
async function check(max: number, outcomes: readonly Outcome[], jitter: number): Promise<void> {
  const file = join(dir, `p-${files++}.db`);
  const ledger: number[] = [];
  let crashed: (() => void) | undefined;
  const job = defineTask<undefined, Record<never, never>, number>({
    taskType: 'job',
    durable: {
      retry: { maximumAttempts: max, initialIntervalMs: 1, maximumIntervalMs: 4, jitter },
      attemptTimeoutMs: 20,
    },
    run: async (ctx) => {
      ledger.push(ctx.attempt);
      const o = outcomes[ctx.attempt - 1] ?? 'ok';
      if (o === 'ok') return ctx.attempt;
      if (o === 'retry') throw new Error(`retry ${ctx.attempt}`);
      if (o === 'fatal') throw new NonRetryableError(`fatal ${ctx.attempt}`);
      if (o === 'crash') crashed?.();
      return new Promise<number>(() => {});
    },
  });
  // Armed before each life starts: a body may start before `spawn` (or `register`) resolves.
  let crash!: Promise<'crash'>;
  const arm = (): void => {
    crash = new Promise<'crash'>((resolve) => {
      crashed = () => resolve('crash');
    });
  };
  arm();
  let store = new SqliteTaskStore(file);
  let sup: TaskSupervisor = createTaskSupervisor({ store });
  const id = await job.spawn(sup, { threadId: 't', description: 'j' });
  let final: TaskSummary | undefined;
  for (let lives = 0; final === undefined; lives++) {
    if (lives > 10) throw new Error('more lives than attempts');
    const end = await Promise.race([sup.wait(id), crash]);
    if (end !== 'crash') {
      final = end;
      break;
    }
    // The process "dies": its store is closed under it; a new process opens the file.
    await store.close();
    arm();
    store = new SqliteTaskStore(file);
    sup = createTaskSupervisor({ store });
    await sup.register(job);
  }
  await sup.stop();
  const [record] = await store.load('t');
  await store.close();
  const want = durableModel(max, outcomes, 20);
  const got = {
    status: record!.status,
    attempts: record!.attempt,
    errors: record!.attempt_errors ?? [],
  };
  const ok =
    got.status === want.status &&
    got.attempts === want.attempts &&
    JSON.stringify(got.errors) === JSON.stringify(want.errors) &&
    JSON.stringify(ledger) === JSON.stringify(Array.from({ length: want.attempts }, (_, i) => i + 1)) &&
    (want.status !== 'completed' || record!.result === want.attempts) &&
    final.status === record!.status;
  if (!ok) {
    throw new Error(
      `model ${JSON.stringify(want)}, got ${JSON.stringify(got)}, ledger ${JSON.stringify(ledger)}, final ${JSON.stringify(final)}`,
    );
  }
}

describe('durable tasks against a reference model (attempts, backoff, crash and restart)', () => {
  it('every sequence of attempt outcomes ends as the model says, each attempt started once', async () => {
    await assertWithSeed(
      'durable model',
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.constantFrom<Outcome>('ok', 'retry', 'fatal', 'crash', 'hang'), { maxLength: 5 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (max, outcomes, jitter) => check(max, outcomes, jitter),
      ),
      runsFor(40),
    );
  }, 120_000);
});
