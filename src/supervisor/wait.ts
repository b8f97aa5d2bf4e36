import type { TaskSummary } from '../wire/types.js';
import type { TaskEntry } from './entry.js';
import type { WaitOptions } from './types.js';

/** The longest delay setTimeout holds (32 bits); past it (Infinity included) a wait has no deadline. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A wait that something else ends: `register` files `done` where the awaited thing will call it
 * and returns how to take it back. Rejects with `signal.reason` when aborted (at once, registering
 * nothing, if it already is) and with a `TimeoutError` DOMException saying `timeoutMessage()`
 * after `timeoutMs`. Every exit removes its timer, its abort listener and its registration, so
 * abandoned waits leak nothing. The options are checked by the caller.
 */
export function waitUntil<T>(
  opts: { readonly signal?: AbortSignal | undefined; readonly timeoutMs?: number | undefined },
  timeoutMessage: () => string,
  register: (done: (value: T) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) return reject(signal.reason);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let unregister: (() => void) | undefined;
    let settled = false;
    const cleanup = (): void => {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      unregister?.();
    };
    const done = (value: T): void => {
      cleanup();
      resolve(value);
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal?.reason);
    };
    unregister = register(done);
    // `register` called `done` at once: nothing more to arm, only the registration to take back.
    if (settled) return unregister();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
      timer = setTimeout(() => {
        cleanup();
        reject(new DOMException(timeoutMessage(), 'TimeoutError'));
      }, timeoutMs);
    }
  });
}

/**
 * Resolves with the entry's terminal summary once its terminal event is delivered; rejects with a
 * `TimeoutError` DOMException after `timeoutMs`, or with `signal.reason` when aborted. Every exit
 * removes its timer, its abort listener and its waiter, so abandoned waits leak nothing.
 */
export function waitFor(entry: TaskEntry, opts: WaitOptions): Promise<TaskSummary> {
  return waitUntil<TaskSummary>(
    opts,
    () => `task '${entry.id}' did not finish within ${opts.timeoutMs} ms`,
    (done) => {
      (entry.waiters ??= []).push(done);
      return () => {
        const list = entry.waiters;
        const i = list?.indexOf(done) ?? -1;
        if (list !== undefined && i >= 0) list.splice(i, 1);
      };
    },
  );
}

/**
 * Settles every `waitFor` on `entry` with `summary` (its final one, by default) and forgets them:
 * the task ended, was suspended, or another writer's record ended it.
 *
 * @example
 * resolveWaiters(entry); // each sup.wait(entry.id) resolves with entry.summary
 */
export function resolveWaiters(entry: TaskEntry, summary: TaskSummary = entry.summary): void {
  const waiters = entry.waiters;
  entry.waiters = undefined;
  if (waiters !== undefined) for (const resolve of waiters) resolve(summary);
}
