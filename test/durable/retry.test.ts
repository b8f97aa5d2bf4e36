import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  AttemptFencedError,
  createInbox,
  createTaskSupervisor,
  defineTask,
  NonRetryableError,
  TaskResult,
  type TaskEvent,
} from '../../src/index.js';
import { gate, until } from '../helpers/async.js';

const fast = { initialIntervalMs: 1, jitter: 0 };

describe('durable tasks: retries in one process (memory store)', () => {
  it('a failing attempt is retried; the task completes on attempt 3 with both errors kept', async () => {
    const sup = createTaskSupervisor();
    const seen: number[] = [];
    const flaky = defineTask<{ n: number }, Record<never, never>, { ok: number }>({
      taskType: 'flaky',
      durable: { retry: { ...fast, maximumAttempts: 5 } },
      run: async (ctx, input) => {
        seen.push(ctx.attempt);
        if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
        expect(ctx.previousError).toBe('boom 2');
        return { ok: input.n };
      },
    });
    const id = await flaky.spawn(sup, { threadId: 't', description: 'flaky' }, { n: 7 });
    const s = await flaky.wait(sup, id);
    expect(s.status).toBe('completed');
    expect(s.result).toEqual({ ok: 7 });
    expect(seen).toEqual([1, 2, 3]);
    expect(s.attempt).toBe(3);
    expect(s.max_attempts).toBe(5);
    expect(s.attempt_errors).toEqual(['boom 1', 'boom 2']);
    expect(s.last_error).toBe('boom 2');
    expect(s.phase).toBeUndefined();
    expect(s.next_attempt_at_ms).toBeUndefined();
    await sup.stop();
  });

  it('after maximumAttempts the task is failed with every attempt error', async () => {
    const sup = createTaskSupervisor();
    let runs = 0;
    const doomed = defineTask({
      taskType: 'doomed',
      durable: { retry: { ...fast, maximumAttempts: 3 } },
      run: async (ctx) => {
        runs++;
        throw new Error(`no ${ctx.attempt}`);
      },
    });
    const id = await doomed.spawn(sup, { threadId: 't', description: 'd' });
    const s = await sup.wait(id);
    expect(s.status).toBe('failed');
    expect(s.error).toBe('no 3');
    expect(s.attempt_errors).toEqual(['no 1', 'no 2', 'no 3']);
    expect(runs).toBe(3);
    await sup.stop();
  });

  it('NonRetryableError, a listed error name and a result failing its validator end the task at once', async () => {
    const sup = createTaskSupervisor();
    const runs = { a: 0, b: 0, c: 0, d: 0 };
    const a = defineTask({
      taskType: 'a',
      durable: { retry: fast },
      run: async () => {
        runs.a++;
        throw new NonRetryableError('bad request');
      },
    });
    const b = defineTask({
      taskType: 'b',
      durable: { retry: { ...fast, nonRetryableErrorTypes: ['RangeError'] } },
      run: async () => {
        runs.b++;
        throw new RangeError('out of range');
      },
    });
    // Exact match only: 'Range' is not 'RangeError'.
    const c = defineTask({
      taskType: 'c',
      durable: { retry: { ...fast, maximumAttempts: 2, nonRetryableErrorTypes: ['Range'] } },
      run: async () => {
        runs.c++;
        throw new RangeError('still retried');
      },
    });
    const d = defineTask<undefined, Record<never, never>, { pages: number }>({
      taskType: 'd',
      durable: { retry: fast },
      result: (v) => {
        if (typeof (v as { pages?: unknown }).pages !== 'number') throw new Error('pages must be a number');
        return v as { pages: number };
      },
      run: async () => {
        runs.d++;
        return { pages: 'many' } as unknown as { pages: number };
      },
    });
    const ids = [
      await a.spawn(sup, { threadId: 't', description: 'a' }),
      await b.spawn(sup, { threadId: 't', description: 'b' }),
      await c.spawn(sup, { threadId: 't', description: 'c' }),
      await d.spawn(sup, { threadId: 't', description: 'd' }),
    ];
    const [sa, sb, sc, sd] = await Promise.all(ids.map((id) => sup.wait(id)));
    expect(sa!.status).toBe('failed');
    expect(sa!.error).toBe('bad request');
    expect(sb!.status).toBe('failed');
    expect(sc!.status).toBe('failed');
    expect(sd!.status).toBe('failed');
    expect(sd!.error).toMatch(/result does not match task type 'd'/);
    expect(runs).toEqual({ a: 1, b: 1, c: 2, d: 1 });
    await sup.stop();
  });

  it('cancel while waiting for a retry ends it cancelled at once, and no further attempt starts', async () => {
    const sup = createTaskSupervisor();
    let runs = 0;
    const slow = defineTask({
      taskType: 'slow-retry',
      durable: { retry: { initialIntervalMs: 3_600_000, maximumAttempts: 5 } },
      run: async () => {
        runs++;
        throw new Error('first fails');
      },
    });
    const before = Date.now();
    const id = await slow.spawn(sup, { threadId: 't', description: 's' });
    await until(() => sup.get(id)?.phase === 'retrying', 2_000, 'retrying');
    const after = Date.now();
    const s = sup.get(id)!;
    expect(s.status).toBe('running');
    // The default jitter (0.2) draws the delay from [0.8 d, d].
    expect(s.next_attempt_at_ms).toBeGreaterThanOrEqual(before + 0.8 * 3_600_000);
    expect(s.next_attempt_at_ms).toBeLessThanOrEqual(after + 3_600_000);
    expect(s.last_error).toBe('first fails');
    expect(String(sup.taskActor(id)?.getSnapshot().value)).toBe('retrying');
    expect(sup.cancel(id)).toBe(true);
    expect(sup.get(id)!.status).toBe('cancelled');
    expect(sup.get(id)!.phase).toBeUndefined();
    await sup.wait(id);
    expect(runs).toBe(1);
    await sup.stop();
  });

  it('startAfterMs: queued until then on the supervisor clock; cancel while queued ends it at once with no body run', async () => {
    const clock = new SimulatedClock();
    clock.set(1_000);
    const sup = createTaskSupervisor({ clock, now: () => clock.now() });
    const started: number[] = [];
    const later = defineTask({
      taskType: 'later',
      durable: { retry: fast },
      run: async () => {
        started.push(clock.now());
        return null;
      },
    });
    const a = await later.spawn(sup, { threadId: 't', description: 'a', startAfterMs: 5_000 });
    const b = await later.spawn(sup, { threadId: 't', description: 'b', startAfterMs: 5_000 });
    await until(() => sup.get(a)?.phase === 'queued' && sup.get(b)?.phase === 'queued', 2_000, 'queued');
    expect(sup.get(a)!.next_attempt_at_ms).toBe(6_000);
    expect(String(sup.taskActor(a)?.getSnapshot().value)).toBe('queued');
    clock.increment(4_999);
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual([]);
    expect(sup.cancel(b)).toBe(true);
    expect(sup.get(b)!.status).toBe('cancelled');
    clock.increment(1);
    expect((await sup.wait(a)).status).toBe('completed');
    expect(started).toEqual([6_000]);
    expect(sup.get(a)!.attempt).toBe(1);
    await sup.stop();
  });

  it('attemptTimeoutMs: a hung attempt is abandoned and fenced; its late writes are refused', async () => {
    const sup = createTaskSupervisor();
    const inbox = createInbox<TaskEvent>();
    const hung = gate();
    const late: unknown[] = [];
    let firstSignal: AbortSignal | undefined;
    const t = defineTask<undefined, { note: { n: number } }, string>({
      taskType: 'hangs-once',
      durable: { retry: fast, attemptTimeoutMs: 50 },
      run: async (ctx) => {
        if (ctx.attempt === 1) {
          firstSignal = ctx.signal;
          await hung.promise; // ignores its signal
          for (const write of [
            () => ctx.emit('note', { n: 1 }),
            () => ctx.step('late', () => 1),
            () => ctx.checkpoint.set('late', 1),
          ]) {
            try {
              await write();
              late.push('accepted');
            } catch (e) {
              late.push(e instanceof AttemptFencedError ? 'fenced' : e);
            }
          }
          return 'late result';
        }
        return 'second';
      },
    });
    const id = await t.spawn(sup, { threadId: 't', description: 'h', inbox: inbox.sender });
    const s = await sup.wait(id);
    expect(s.status).toBe('completed');
    expect(s.result).toBe('second');
    expect(s.attempt_errors).toEqual(['attempt 1 timed out after 50 ms']);
    expect(firstSignal?.aborted).toBe(true);
    expect((firstSignal!.reason as Error).name).toBe('TimeoutError');
    hung.open();
    await until(() => late.length === 3, 2_000, 'late writes');
    expect(late).toEqual(['fenced', 'fenced', 'fenced']);
    expect(sup.get(id)!.result).toBe('second');
    expect(inbox.receiver.drain().filter((e) => e.kind === 'custom')).toEqual([]);
    await sup.stop();
  });

  it('ctx.step runs once: later attempts get its recorded result; checkpoints carry over', async () => {
    const sup = createTaskSupervisor();
    let fetches = 0;
    const t = defineTask({
      taskType: 'steps',
      durable: { retry: { ...fast, maximumAttempts: 3 } },
      run: async (ctx) => {
        const pages = await ctx.step('fetch', async () => {
          fetches++;
          return { pages: 3 };
        });
        const done = (await ctx.checkpoint.get<number>('done')) ?? 0;
        await ctx.checkpoint.set('done', done + 1);
        if (ctx.attempt < 3) throw new Error('later');
        return { pages: pages.pages, done: done + 1 };
      },
    });
    const id = await t.spawn(sup, { threadId: 't', description: 's' });
    const s = await sup.wait(id);
    expect(s.result).toEqual({ pages: 3, done: 3 });
    expect(fetches).toBe(1);
    await sup.stop();
  });

  it('idempotency key: 50 concurrent spawns with one key give one task; later ones too', async () => {
    const sup = createTaskSupervisor();
    let runs = 0;
    const release = gate();
    const t = defineTask({
      taskType: 'keyed',
      durable: { retry: fast },
      run: async () => {
        runs++;
        await release.promise;
        return 'done';
      },
    });
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.spawnDurable(sup, { threadId: 't', description: 'k', idempotencyKey: 'order-1' }),
      ),
    );
    const ids = new Set(results.map((r) => r.taskId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created).length).toBe(1);
    const [id] = ids;
    // Another thread may use the same key for its own task.
    const other = await t.spawn(sup, { threadId: 'u', description: 'k', idempotencyKey: 'order-1' });
    expect(other).not.toBe(id);
    release.open();
    await sup.wait(id!);
    expect(await t.spawn(sup, { threadId: 't', description: 'again', idempotencyKey: 'order-1' })).toBe(id);
    expect(sup.list('t').length).toBe(1);
    expect(sup.get(id!)!.idempotency_key).toBe('order-1');
    await sup.wait(other);
    expect(runs).toBe(2);
    await sup.stop();
  });

  it('a plain typed task keeps its summary exactly; durable options are refused for it', async () => {
    const sup = createTaskSupervisor({ now: () => 5 });
    const plain = defineTask({
      taskType: 'plain',
      run: async (ctx) => ({ attempt: ctx.attempt }),
    });
    const id = await plain.spawn(sup, { threadId: 't', description: 'p' });
    const s = await sup.wait(id);
    expect(JSON.stringify(s)).toBe(
      JSON.stringify({
        task_id: id,
        task_type: 'plain',
        description: 'p',
        status: 'completed',
        created_at_ms: 5,
        completed_at_ms: 5,
        result: { attempt: 1 },
      }),
    );
    await expect(plain.spawn(sup, { threadId: 't', description: 'p', idempotencyKey: 'x' })).rejects.toThrow(
      TypeError,
    );
    await expect(sup.register(plain)).rejects.toThrow(TypeError);
    await sup.stop();
  });

  it('a cancelled attempt ends the task cancelled, not retried', async () => {
    const sup = createTaskSupervisor();
    let runs = 0;
    const started = gate();
    const t = defineTask({
      taskType: 'cancel-me',
      durable: { retry: fast },
      run: async (ctx) => {
        runs++;
        started.open();
        await new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        );
        return TaskResult.success(null);
      },
    });
    const id = await t.spawn(sup, { threadId: 't', description: 'c' });
    await started.promise;
    sup.cancel(id);
    expect((await sup.wait(id)).status).toBe('cancelled');
    expect(runs).toBe(1);
    await sup.stop();
  });
});
