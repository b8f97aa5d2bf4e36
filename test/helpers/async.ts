/**
 * Shared test utilities for the supervisor and machine suites: deferred gates, a condition
 * poller with a timeout (never a fixed sleep), a fake clock, and instrumented stores.
 */
import { createInbox, createTaskSupervisor, MemoryTaskStore, TaskResult } from '../../src/index.js';
import type {
  InboxReceiver,
  Json,
  PersistedTaskMeta,
  SupervisorOptions,
  TaskEvent,
  TaskSupervisor,
} from '../../src/index.js';

/** A deferred promise a test opens by hand. */
export interface Gate<T = void> {
  readonly promise: Promise<T>;
  open(value: T): void;
  fail(error: unknown): void;
}

export function gate<T = void>(): Gate<T> {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/**
 * Polls `cond` (sync or async) on every macrotask turn, or every `intervalMs` when given, until it
 * holds; rejects after `timeoutMs`. The default bound is long (10 s, a third of the suite's 30 s per
 * test): on a loaded two-core CI machine a process can be kept off the CPU or paused by GC for more
 * than a couple of seconds, and an eventual condition must not fail for that.
 */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 0,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((r) => (intervalMs > 0 ? setTimeout(r, intervalMs) : setImmediate(r)));
  }
}

export function tick(): Promise<void> {
  return new Promise<void>((r) => setImmediate(r));
}

/** Whether `p` has settled after pending microtasks ran. */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await tick();
  return settled;
}

/** A hand-driven clock for the `now` option. */
export function fakeClock(start = 1_000): {
  now: () => number;
  set(t: number): void;
  advance(ms: number): void;
} {
  let t = start;
  return {
    now: () => t,
    set: (v) => {
      t = v;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A body that parks until cancelled, then acknowledges it. */
export async function parked(ctx: { cancelled(): Promise<void> }): Promise<TaskResult> {
  await ctx.cancelled();
  return TaskResult.cancelled();
}

/** A supervisor with an owner inbox and a fake clock. */
export function setup(options: SupervisorOptions = {}): {
  sup: TaskSupervisor;
  receiver: InboxReceiver;
  clock: ReturnType<typeof fakeClock>;
  events: () => TaskEvent[];
} {
  const inbox = createInbox();
  const clock = fakeClock();
  const sup = createTaskSupervisor({
    ownerInbox: inbox.sender,
    now: clock.now,
    cancelGraceMs: 5_000,
    ...options,
  });
  const all: TaskEvent[] = [];
  return {
    sup,
    receiver: inbox.receiver,
    clock,
    events: () => {
      all.push(...(inbox.receiver.drain() as TaskEvent[]));
      return all;
    },
  };
}

/** Common spawn options on thread `t`. */
export function opts(extra: Record<string, unknown> = {}): {
  threadId: string;
  taskType: string;
  description: string;
} {
  return { threadId: 't', taskType: 'test', description: 'd', ...extra };
}

/** The events of one kind. */
export function kinds(events: readonly Json[] | readonly TaskEvent[]): string[] {
  return (events as { kind: string }[]).map((e) => e.kind);
}

/** A MemoryTaskStore whose `put` can be made to fail, recording every attempt. */
export class FlakyStore extends MemoryTaskStore {
  failing = false;
  error: Error = new Error('disk on fire');
  attempts = 0;
  /** Called before each put; may return a promise to hold the put. */
  hold: (() => Promise<void>) | undefined;

  override async put(records: readonly PersistedTaskMeta[]): Promise<void> {
    this.attempts++;
    if (this.hold) await this.hold();
    if (this.failing) throw this.error;
    return super.put(records);
  }

  async record(id: string): Promise<PersistedTaskMeta | undefined> {
    return (await this.load()).find((r) => r.task_id === id);
  }
}
