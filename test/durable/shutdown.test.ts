import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createTaskSupervisor, defineTask, LOST_ATTEMPT_ERROR } from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { gate, until } from '../helpers/async.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-durable-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stop() and durable tasks', () => {
  it('a stopped durable task stays running in the store and the next process takes it up; a plain one is cancelled', async () => {
    const file = join(dir, 'stop.db');
    const started = gate();
    let firstLife = true;
    const job = defineTask<{ n: number }, Record<never, never>, { n: number; attempt: number }>({
      taskType: 'job',
      durable: { retry: { initialIntervalMs: 1, jitter: 0 } },
      run: async (ctx, input) => {
        if (firstLife && input.n === 1) {
          started.open();
          await new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
          );
        }
        return { n: input.n, attempt: ctx.attempt };
      },
    });
    const later = defineTask({
      taskType: 'later',
      durable: {},
      run: async () => 'ran',
    });
    let store = new SqliteTaskStore(file);
    // The first life's clock stands still, so `queued` is still waiting for its start time when it
    // stops, however slow the machine (a real 200 ms could pass during the writes before stop).
    const clock = new SimulatedClock();
    clock.set(Date.now());
    let sup = createTaskSupervisor({ store, clock, now: () => clock.now() });
    const running = await job.spawn(sup, { threadId: 't', description: 'running' }, { n: 1 });
    const queued = await later.spawn(sup, { threadId: 't', description: 'queued', startAfterMs: 200 });
    const plain = await sup.spawn({ threadId: 't', taskType: 'plain', description: 'p' }, async (ctx) => {
      await ctx.cancelled();
      ctx.signal.throwIfAborted();
    });
    await started.promise;
    await until(() => sup.get(queued)?.phase === 'queued', 2_000, 'queued');
    await sup.stop();
    expect(sup.get(running)!.status).toBe('running');
    expect(sup.get(queued)!.status).toBe('running');
    expect(sup.get(plain)!.status).toBe('cancelled');
    await store.close();

    firstLife = false;
    store = new SqliteTaskStore(file);
    const stored = new Map((await store.load('t')).map((r) => [r.task_id, r]));
    expect(stored.get(running)!.status).toBe('running');
    expect(stored.get(queued)!.status).toBe('running');
    expect(stored.get(plain)!.status).toBe('cancelled');
    sup = createTaskSupervisor({ store });
    expect(await sup.register(job)).toBe(1);
    expect(await sup.register(later)).toBe(1);
    const a = await sup.wait(running);
    expect(a.status).toBe('completed');
    expect(a.result).toEqual({ n: 1, attempt: 2 });
    // The attempt that was running when the process stopped counts as lost, as after a crash.
    expect(a.attempt_errors).toEqual([`attempt 1: ${LOST_ATTEMPT_ERROR}`]);
    const b = await sup.wait(queued);
    expect(b.status).toBe('completed');
    expect(b.attempt).toBe(1);
    expect(b.attempt_errors).toBeUndefined();
    await sup.stop();
    await store.close();
  });
});

describe('loadThread before register', () => {
  it('a durable task that was running stays running on loadThread; register takes it up and its waiters get the end', async () => {
    const file = join(dir, 'load-first.db');
    let life = 1;
    const started = gate();
    const job = defineTask({
      taskType: 'job',
      durable: { retry: { initialIntervalMs: 1, jitter: 0 } },
      run: async (ctx) => {
        if (life === 1) {
          started.open();
          await new Promise(() => {}); // the process "dies" here
        }
        return ctx.attempt;
      },
    });
    let store = new SqliteTaskStore(file);
    const first = createTaskSupervisor({ store });
    const id = await job.spawn(first, { threadId: 't', description: 'j' });
    await started.promise;
    await store.close(); // the first process is gone (never stopped)

    life = 2;
    store = new SqliteTaskStore(file);
    const sup = createTaskSupervisor({ store });
    expect(await sup.loadThread('t')).toBe(1);
    expect(sup.get(id)!.status).toBe('running');
    const waited = sup.wait(id);
    expect(await sup.register(job)).toBe(1);
    const s = await waited;
    expect(s.status).toBe('completed');
    expect(s.result).toBe(2);
    expect(sup.list('t')).toHaveLength(1);
    await sup.stop();
    expect((await store.load('t'))[0]!.status).toBe('completed');
    await store.close();
  });
});

describe('stop() and a durable task’s timers', () => {
  it('a suspended durable task leaves no deadline or grace timer armed', async () => {
    // A clock over the real timers that counts the ones still armed.
    const live = new Set<unknown>();
    const clock = {
      setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
        const handle = setTimeout(() => {
          live.delete(handle);
          fn();
        }, ms);
        live.add(handle);
        return handle;
      },
      clearTimeout(handle: unknown): void {
        live.delete(handle);
        clearTimeout(handle as ReturnType<typeof setTimeout>);
      },
    };
    const started = gate();
    const job = defineTask({
      taskType: 'timed',
      durable: {},
      run: async (ctx) => {
        started.open();
        await new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        );
      },
    });
    const sup = createTaskSupervisor({ clock, cancelGraceMs: 60_000 });
    const id = await job.spawn(sup, { threadId: 't', description: 'timed', timeoutMs: 60_000 });
    await started.promise;
    expect(live.size).toBeGreaterThan(0); // its deadline
    await sup.stop();
    expect(sup.get(id)!.status).toBe('running');
    expect(live.size).toBe(0);
  });
});
