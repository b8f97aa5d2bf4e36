import { TaskResult, createInbox, createTaskSupervisor } from '../../src/index.js';
import type { TaskSupervisor } from '../../src/index.js';
import type { Json } from '../../src/wire/types.js';

/** Polls `cond` until it holds, or rejects after `timeoutMs` (no fixed sleeps). */
export async function waitFor(cond: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A promise a test opens by hand. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

/** A supervisor reporting to a fresh owner inbox; stopped by `cleanup`. */
export function setup(): {
  supervisor: TaskSupervisor;
  inbox: ReturnType<typeof createInbox>;
  cleanup: () => Promise<void>;
} {
  const inbox = createInbox();
  const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender, cancelGraceMs: 2_000 });
  return { supervisor, inbox, cleanup: () => supervisor.stop() };
}

/** A body that parks until cancelled, then reports `cancelled`. */
export async function parked(ctx: { cancelled(): Promise<void> }): Promise<TaskResult> {
  await ctx.cancelled();
  return TaskResult.cancelled();
}

/** The data of a successful tool outcome, or a failure naming the error. */
export function dataOf(
  outcome: { ok: true; data: Json } | { ok: false; error: string },
): Record<string, Json> {
  if (!outcome.ok) throw new Error(`tool failed: ${outcome.error}`);
  return outcome.data as Record<string, Json>;
}
