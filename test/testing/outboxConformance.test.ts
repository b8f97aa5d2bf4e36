import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryMessageOutbox } from '../../src/stores/memoryOutbox.js';
import type { MessageOutboxStore } from '../../src/stores/outbox.js';
import { OUTBOX_CHECKS } from '../../src/testing/outboxConformance.js';

/** A correct outbox whose first dispatch pass starts late, as a loaded database's can. */
function slowToStart(delayMs: number): MessageOutboxStore {
  const inner = new MemoryMessageOutbox();
  let first = true;
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'dispatch') {
        return async (...args: Parameters<MessageOutboxStore['dispatch']>) => {
          if (first) {
            first = false;
            await new Promise((r) => setTimeout(r, delayMs));
          }
          return target.dispatch(...args);
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('the outbox conformance checks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the concurrent-dispatch check waits for the first pass to hold its entry, however late it starts', async () => {
    const [name, check] = OUTBOX_CHECKS.find(([n]) =>
      n.startsWith('dispatch hands each entry to one caller'),
    )!;
    expect(name).toBe('dispatch hands each entry to one caller and applies verdicts in order');
    // On fake timers (Date too), so the outcome does not depend on how loaded the machine is. The
    // first pass starts 3 s late: past the 500 polls of 2 ms the check once gave it before starting
    // the concurrent pass, which then took the entry the first pass was about to hold.
    vi.useFakeTimers();
    const checked = check(slowToStart(3_000), 'slow').then(
      () => 'passed',
      (e: unknown) => String(e),
    );
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await checked).toBe('passed');
  });
});
