import type { TaskSummary } from '../wire/types.js';
import type { TaskEntry } from './entry.js';
import type { WaitOptions } from './types.js';

/**
 * Resolves with the entry's terminal summary once its terminal event is delivered; rejects with a
 * `TimeoutError` DOMException after `timeoutMs`, or with `signal.reason` when aborted. Every exit
 * removes its timer, its abort listener and its waiter, so abandoned waits leak nothing.
 */
export function waitFor(entry: TaskEntry, opts: WaitOptions): Promise<TaskSummary> {
  return new Promise<TaskSummary>((resolve, reject) => {
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) return reject(signal.reason);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const list = entry.waiters;
      const i = list?.indexOf(done) ?? -1;
      if (list !== undefined && i >= 0) list.splice(i, 1);
    };
    const done = (summary: TaskSummary): void => {
      cleanup();
      resolve(summary);
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal?.reason);
    };
    (entry.waiters ??= []).push(done);
    signal?.addEventListener('abort', onAbort, { once: true });
    // Past setTimeout's 32-bit range (Infinity included) the wait has no deadline.
    if (timeoutMs !== undefined && timeoutMs <= 2_147_483_647) {
      timer = setTimeout(() => {
        cleanup();
        reject(new DOMException(`task '${entry.id}' did not finish within ${timeoutMs} ms`, 'TimeoutError'));
      }, timeoutMs);
    }
  });
}
