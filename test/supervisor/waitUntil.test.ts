import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/supervisor/wait.js';

/** A registry of one waiter, to see what each exit leaves behind. */
function slot<T>() {
  const s: { done: ((value: T) => void) | undefined; registered: number } = {
    done: undefined,
    registered: 0,
  };
  const register = (done: (value: T) => void) => {
    s.done = done;
    s.registered++;
    return () => {
      s.done = undefined;
    };
  };
  return { s, register };
}

describe('waitUntil: the timer and abort handling that wait and whenIdle share', () => {
  it('resolves with what the registered callback is given, and takes the registration back', async () => {
    const { s, register } = slot<number>();
    const p = waitUntil({ timeoutMs: 60_000 }, () => 'late', register);
    s.done!(7);
    await expect(p).resolves.toBe(7);
    expect(s.done).toBeUndefined();
  });

  it('an abort rejects with the signal reason and takes the registration back; an aborted signal registers nothing', async () => {
    const { s, register } = slot<number>();
    const controller = new AbortController();
    const p = waitUntil({ signal: controller.signal }, () => 'late', register);
    const reason = new Error('stop waiting');
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(s.done).toBeUndefined();
    await expect(waitUntil({ signal: controller.signal }, () => 'late', register)).rejects.toBe(reason);
    expect(s.registered).toBe(1);
  });

  it('timeoutMs rejects with a TimeoutError DOMException with the given message and takes the registration back', async () => {
    const { s, register } = slot<number>();
    const controller = new AbortController();
    const listeners = { added: 0, removed: 0 };
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...a: Parameters<AbortSignal['addEventListener']>) => {
      if (a[0] === 'abort') listeners.added++;
      add(...a);
    }) as AbortSignal['addEventListener'];
    signal.removeEventListener = ((...a: Parameters<AbortSignal['removeEventListener']>) => {
      if (a[0] === 'abort') listeners.removed++;
      remove(...a);
    }) as AbortSignal['removeEventListener'];
    const p = waitUntil({ signal, timeoutMs: 1 }, () => 'thread t was not idle', register);
    const error = await p.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect(error).toMatchObject({ name: 'TimeoutError', message: 'thread t was not idle' });
    expect(s.done).toBeUndefined();
    // The abort listener went with it (added once, removed once): a later abort changes nothing.
    expect(listeners.added).toBe(1);
    expect(listeners.removed).toBe(1);
    controller.abort();
  });

  it('a timeout past the 32-bit timer range (Infinity) arms no timer; a callback called at once settles it', async () => {
    const { s, register } = slot<string>();
    const p = waitUntil({ timeoutMs: Number.POSITIVE_INFINITY }, () => 'never', register);
    // Node would turn an out-of-range delay into 1 ms: past that, a timer armed for Infinity has
    // fired. The pause is the adversary's, not a wait for an outcome.
    await new Promise((r) => setTimeout(r, 20));
    s.done!('ok');
    await expect(p).resolves.toBe('ok');
    const eager = waitUntil<string>(
      { timeoutMs: 1 },
      () => 'late',
      (done) => {
        done('at once');
        return () => {};
      },
    );
    await expect(eager).resolves.toBe('at once');
  });
});
