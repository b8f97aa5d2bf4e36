import type { DurableRow, DurableTaskStore } from '../stores/durable.js';
import { errorMessage } from '../supervisor/lifecycle.js';
import type { TaskContext } from '../supervisor/types.js';
import { TaskResult } from '../wire/taskResult.js';
import type { Json } from '../wire/types.js';
import { AttemptContext, AttemptScope } from './attemptContext.js';
import { AttemptFencedError } from './errors.js';
import type { DurableDef, DurablePatch, DurableSupervisorHooks } from './host.js';
import { backoffDelay, isNonRetryable } from './policy.js';
import {
  CANCELLED,
  claimAttempt,
  readSteps,
  releaseAttempt,
  STORE_RETRY_DELAYS_MS,
  StoreCallFailed,
  wait as sleepFor,
} from './storeCalls.js';

/** What the attempt loop needs: the supervisor's hooks, the rows, and who this process is. */
export interface AttemptRuntime {
  readonly hooks: DurableSupervisorHooks;
  readonly store: DurableTaskStore;
  readonly owner: string;
  readonly random: () => number;
}

type AttemptEnd =
  | { readonly kind: 'returned'; readonly value: unknown }
  | { readonly kind: 'threw'; readonly error: string; readonly final: boolean };

const TIMED_OUT = Symbol('timed out');

/**
 * The body of a durable task as the supervisor runs it: waits for the row's next run time (the
 * machine `queued` or `retrying`, its concurrency slot given back), then for a slot (`queued`, in
 * the queue's order), claims the next attempt in the store (the one conditional claim: act only
 * on the row it returns), runs the typed body on an attempt context, and on a retryable failure
 * records the error and the next run time and loops. Returns the final outcome for the task
 * machine; marks the row `done` once the terminal record was written.
 */
export async function runAttempts(
  rt: AttemptRuntime,
  outer: TaskContext,
  def: DurableDef,
  first: DurableRow,
): Promise<unknown> {
  try {
    return await attemptLoop(rt, outer, def, first);
  } catch (e) {
    // The store kept rejecting: the task ends failed with its error, and its row is marked done
    // once that record is written, so no later process runs it again.
    if (e instanceof StoreCallFailed) return ended(rt, outer.taskId, TaskResult.failed(e.message));
    throw e;
  }
}

async function attemptLoop(
  rt: AttemptRuntime,
  outer: TaskContext,
  def: DurableDef,
  first: DurableRow,
): Promise<unknown> {
  const id = outer.taskId;
  const { hooks, store } = rt;
  let row = first;
  let recorded: Record<string, Json> | undefined;
  // Fields the next summary patch carries (the previous transition's news).
  let news: DurablePatch = {};
  for (;;) {
    const wait = row.next_run_at_ms - hooks.now();
    if (wait > 0 && !outer.isCancelled()) {
      hooks.patch(
        id,
        { ...news, phase: row.attempt === 0 ? 'queued' : 'retrying', next_attempt_at_ms: row.next_run_at_ms },
        row.attempt === 0 ? 'task.queue' : 'task.retry',
      );
      news = {};
      // No body runs until then: its slot goes to the next task.
      hooks.releaseSlot(id);
      await sleepFor(hooks, wait, outer);
    }
    if (outer.isCancelled()) return ended(rt, id, TaskResult.cancelled());
    const slot = hooks.awaitSlot(id);
    if (slot !== undefined) {
      // Every slot is taken: it waits in the queue like a queued spawn.
      hooks.patch(id, { ...news, phase: 'queued', next_attempt_at_ms: undefined }, 'task.queue');
      news = {};
      await Promise.race([slot, outer.cancelled()]);
      if (outer.isCancelled()) return ended(rt, id, TaskResult.cancelled());
    }
    const claimed = await claimAttempt(rt, outer, row);
    if (claimed === CANCELLED) return ended(rt, id, TaskResult.cancelled());
    if (claimed === undefined) {
      // Act only on a claimed row: someone else holds this attempt (or the task ended).
      const now = await store.get(id);
      throw new AttemptFencedError(
        `task '${id}': attempt ${row.attempt + 1} could not be claimed (the stored task is ${now === undefined ? 'gone' : `${now.state} at attempt ${now.attempt}`})`,
      );
    }
    row = claimed;
    if (outer.isCancelled()) return ended(rt, id, TaskResult.cancelled());
    hooks.patch(
      id,
      { ...news, attempt: row.attempt, phase: undefined, next_attempt_at_ms: undefined },
      'task.start',
    );
    news = {};
    if (recorded === undefined) {
      const steps = await readSteps(rt, outer);
      if (steps === CANCELLED) return ended(rt, id, TaskResult.cancelled());
      recorded = steps;
    }
    const end = await runOne(rt, outer, def, row, recorded);
    if (end.kind === 'returned') return ended(rt, id, end.value);
    // A throw after a cancel request is the acknowledgement: the machine ends it `cancelled`.
    if (outer.isCancelled()) return ended(rt, id, TaskResult.cancelled());
    const final = end.final || row.attempt >= row.max_attempts;
    const next = final ? undefined : hooks.now() + backoffDelay(def.policy, row.attempt, rt.random);
    const released = await releaseAttempt(rt, outer, row, end.error, next);
    if (released === CANCELLED) return ended(rt, id, TaskResult.cancelled());
    if (!released) {
      throw new AttemptFencedError(
        `task '${id}': attempt ${row.attempt} lost the task before it could record its failure`,
      );
    }
    const errors = [...row.attempt_errors, end.error];
    news = { last_error: end.error, attempt_errors: errors };
    if (final) {
      hooks.patch(id, news);
      return ended(rt, id, TaskResult.failed(end.error));
    }
    row = { ...row, state: 'waiting', next_run_at_ms: next!, attempt_errors: errors };
  }
}

/**
 * Marks the row `done` once the task's terminal record was written, then hands back `value`. A task
 * that `stop()` suspended stays `running`: its row is left for the next process.
 */
export function ended(rt: Pick<AttemptRuntime, 'hooks' | 'store'>, id: string, value: unknown): unknown {
  rt.hooks.settled(id).then(
    (s) => (s.status === 'running' ? undefined : finishRow(rt, id)),
    () => {},
  );
  return value;
}

/**
 * `finish(id)`, tried again on the store-call schedule while the store rejects. Giving up (the
 * supervisor stops, or the last try failed) loses nothing: the task's terminal record is written,
 * and whoever next takes the row up (a restart's `register`, another replica's takeover) reads
 * that record and marks the row done instead of running the task again.
 */
async function finishRow(rt: Pick<AttemptRuntime, 'hooks' | 'store'>, id: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await rt.store.finish(id);
      return;
    } catch {
      const delay = STORE_RETRY_DELAYS_MS[tries];
      if (delay === undefined || rt.hooks.stopping?.() === true) return;
      await new Promise<void>((resolve) => {
        const timer = rt.hooks.clock.setTimeout(() => resolve(), delay) as { unref?: () => void } | undefined;
        // A retry must not keep the process alive on its own.
        timer?.unref?.();
      });
      // Stopped meanwhile: the store may be closed; the next process marks the row.
      if (rt.hooks.stopping?.() === true) return;
    }
  }
}

async function runOne(
  rt: AttemptRuntime,
  outer: TaskContext,
  def: DurableDef,
  row: DurableRow,
  recorded: Record<string, Json>,
): Promise<AttemptEnd> {
  const scope = new AttemptScope();
  const outerSignal = outer.signal;
  const onCancel = (): void => scope.controller.abort(outerSignal.reason);
  if (outerSignal.aborted) onCancel();
  else outerSignal.addEventListener('abort', onCancel, { once: true });
  const previous = row.attempt_errors.at(-1);
  const ctx = new AttemptContext(rt, outer, scope, recorded, row.attempt, previous);
  const ms = def.attemptTimeoutMs;
  let timer: unknown;
  const body = Promise.resolve()
    .then(() => def.runAttempt(ctx, row.input))
    .then(
      (value): AttemptEnd => ({ kind: 'returned', value }),
      (e: unknown): AttemptEnd => ({
        kind: 'threw',
        error: errorMessage(e),
        final: isNonRetryable(e, def.policy),
      }),
    );
  let end: AttemptEnd | typeof TIMED_OUT;
  try {
    end =
      ms === undefined
        ? await body
        : await Promise.race([
            body,
            new Promise<typeof TIMED_OUT>((resolve) => {
              timer = rt.hooks.clock.setTimeout(() => resolve(TIMED_OUT), ms);
            }),
          ]);
  } finally {
    if (timer !== undefined) rt.hooks.clock.clearTimeout(timer);
    outerSignal.removeEventListener('abort', onCancel);
  }
  if (end === TIMED_OUT) {
    const error = `attempt ${row.attempt} timed out after ${ms} ms`;
    // The late body keeps running but can write nothing: its scope is fenced.
    scope.fence(new DOMException(error, 'TimeoutError'));
    return { kind: 'threw', error, final: false };
  }
  scope.live = false;
  return end;
}
