/**
 * Gates: named latches a test opens by hand, so task bodies "take time" without any timer.
 */

/** Why a gate wait ended early: the signal given to {@link Gates.wait} was aborted. */
export class GateAbortedError extends Error {
  override readonly name = 'AbortError';
  constructor(readonly gate: string) {
    super(`wait for gate '${gate}' aborted`);
  }
}

/**
 * A set of named gates. A body awaits `wait(name)`; the test calls `release(name)`. Releasing
 * before anyone waits is remembered (the later wait resolves at once). No timers anywhere.
 *
 * @example
 * const gates = createGates();
 * const body = async () => { await gates.wait('fetched'); return 'done'; };
 * const p = body();
 * gates.waiting();        // ['fetched']
 * gates.release('fetched');
 * await p;                // 'done'
 */
export interface Gates {
  /**
   * Resolves once `name` is released; rejects with {@link GateAbortedError} when `signal` aborts first.
   *
   * @example
   * await gates.wait('fetched', ctx.signal);
   */
  wait(name: string, signal?: AbortSignal): Promise<void>;
  /**
   * Opens `name` (idempotent). Returns whether someone was waiting on it.
   *
   * @example
   * gates.release('fetched'); // true when a body was waiting
   */
  release(name: string): boolean;
  /**
   * Opens every gate someone is waiting on; returns their names.
   *
   * @example
   * gates.releaseAll(); // ['fetched', 'parsed']
   */
  releaseAll(): string[];
  /**
   * Names of the gates someone is waiting on now, in the order the waits began.
   *
   * @example
   * expect(gates.waiting()).toEqual(['fetched']);
   */
  waiting(): string[];
  /**
   * Whether `name` has been released.
   *
   * @example
   * gates.isOpen('fetched'); // false until released
   */
  isOpen(name: string): boolean;
}

/** A new, empty set of {@link Gates}. @example const gates = createGates(); */
export function createGates(): Gates {
  const open = new Set<string>();
  const waiters = new Map<string, Array<() => void>>();
  const release = (name: string): boolean => {
    open.add(name);
    const list = waiters.get(name);
    waiters.delete(name);
    if (list === undefined) return false;
    for (const resolve of list) resolve();
    return true;
  };
  return {
    wait(name, signal) {
      if (signal?.aborted) return Promise.reject(new GateAbortedError(name));
      if (open.has(name)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const list = waiters.get(name);
          const i = list?.indexOf(done) ?? -1;
          if (list !== undefined && i >= 0) list.splice(i, 1);
          if (list?.length === 0) waiters.delete(name);
          reject(new GateAbortedError(name));
        };
        const done = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const list = waiters.get(name);
        if (list === undefined) waiters.set(name, [done]);
        else list.push(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    release,
    releaseAll() {
      const names = Array.from(waiters.keys());
      for (const name of names) release(name);
      return names;
    },
    waiting: () => Array.from(waiters.keys()),
    isOpen: (name) => open.has(name),
  };
}
