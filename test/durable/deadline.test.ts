import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createTaskSupervisor, defineTask } from '../../src/index.js';
import { type Gate, gate, until } from '../helpers/async.js';

/**
 * A durable type whose attempt n waits for `gates[n - 1]` (or its signal), then fails (attempt 1)
 * or returns.
 */
function gatedJob(gates: Gate[], started: number[]) {
  return defineTask<Record<string, never>, Record<never, never>, { attempt: number }>({
    taskType: 'job',
    durable: { retry: { initialIntervalMs: 1_000, jitter: 0, maximumAttempts: 3 } },
    run: async (ctx) => {
      started.push(ctx.attempt);
      await Promise.race([
        gates[ctx.attempt - 1]!.promise,
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      ]);
      if (ctx.attempt === 1) throw new Error('boom 1');
      return { attempt: ctx.attempt };
    },
  });
}

async function startAttempt2(
  clock: SimulatedClock,
  gates: Gate[],
  started: number[],
  sup: ReturnType<typeof createTaskSupervisor>,
  id: string,
) {
  await until(() => started.length === 1, 5_000, 'attempt 1 to start');
  clock.increment(800);
  gates[0]!.open();
  await until(() => sup.get(id)?.phase === 'retrying', 5_000, 'the backoff');
  clock.increment(1_000);
  await until(() => started.length === 2, 5_000, 'attempt 2 to start');
}

/** A durable task spawned with a 1 s timeout on a simulated clock, its attempt 2 just started. */
async function timedAtAttempt2() {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const sup = createTaskSupervisor({ clock, now: () => clock.now() });
  const gates = [gate(), gate()];
  const started: number[] = [];
  const job = gatedJob(gates, started);
  const id = await job.spawn(sup, { threadId: 't', description: 'timed', timeoutMs: 1_000 }, {});
  await startAttempt2(clock, gates, started, sup, id);
  return { clock, sup, gates, started, id };
}

describe('a spawn’s timeoutMs on a durable task (durable-tasks.md, choices and limits)', () => {
  it('applies to each stay in running: two attempts of 800 ms under a 1 s timeout complete', async () => {
    const { clock, sup, gates, id } = await timedAtAttempt2();
    // 1.6 s of running in all, 800 ms of it in this attempt: within the timeout.
    clock.increment(800);
    expect(sup.get(id)!.status).toBe('running');
    gates[1]!.open();
    const end = await sup.wait(id);
    expect(end.status).toBe('completed');
    expect(end.result).toEqual({ attempt: 2 });
    await sup.stop();
  });

  it('an attempt that outlives it ends the task cancelled (stop_reason timeout), not retried', async () => {
    const { clock, sup, started, id } = await timedAtAttempt2();
    clock.increment(1_000);
    const end = await sup.wait(id);
    expect(end.status).toBe('cancelled');
    expect(end.stop_reason).toBe('timeout');
    expect(started).toEqual([1, 2]);
    await sup.stop();
  });
});
