import { describe, expect, it } from 'vitest';
import type { SharedSlots } from '../../src/stores/coordination.js';
import type { TaskEntry } from '../../src/supervisor/entry.js';
import { SharedLimits } from '../../src/supervisor/sharedLimits.js';
import { until } from '../helpers/async.js';

/** Slots kept in memory, failing the next `failures` calls of either kind; records what happened. */
class FakeSlots implements SharedSlots {
  readonly held = new Map<string, string>();
  failures = 0;
  readonly log: string[] = [];
  #wakers: (() => void)[] = [];
  async tryAcquire(key: string, limit: number, taskId: string): Promise<boolean> {
    await Promise.resolve();
    if (this.failures > 0) {
      this.failures--;
      throw new Error('connection terminated');
    }
    if (this.held.has(taskId)) return true;
    if ([...this.held.values()].filter((k) => k === key).length >= limit) return false;
    this.held.set(taskId, key);
    this.log.push(`take ${taskId}`);
    return true;
  }
  async release(taskId: string): Promise<void> {
    // A round trip slower than a take's: a take issued right after must not overtake it.
    await new Promise((r) => setTimeout(r, 5));
    if (this.held.delete(taskId)) this.log.push(`give ${taskId}`);
    const w = this.#wakers;
    this.#wakers = [];
    for (const f of w) f();
  }
  changed(ms: number): Promise<void> {
    return new Promise((r) => {
      this.#wakers.push(r);
      setTimeout(r, ms);
    });
  }
}

const entry = (id: string, type = 'browser') =>
  ({ id, summary: { task_type: type } }) as unknown as TaskEntry;

describe('SharedLimits (perType limits across replicas)', () => {
  it('a type limit of 1: the second task starts only once the first gives its slot back', async () => {
    const slots = new FakeSlots();
    const limits = new SharedLimits(slots, new Map([['browser', 1]]));
    const started: string[] = [];
    const a = entry('bg_1');
    const b = entry('bg_2');
    limits.acquire(a, () => started.push('bg_1'));
    limits.acquire(b, () => started.push('bg_2'));
    await until(() => started.length === 1, 10_000, 'the first start', 5);
    expect(started).toEqual(['bg_1']);
    limits.release(a);
    await until(() => started.length === 2, 10_000, 'the second start', 5);
    expect(slots.log).toEqual(['take bg_1', 'give bg_1', 'take bg_2']);
  });

  it('types without a limit are not shared', () => {
    const limits = new SharedLimits(new FakeSlots(), new Map([['browser', 1]]));
    expect(limits.applies(entry('bg_1', 'browser'))).toBe(true);
    expect(limits.applies(entry('bg_2', 'other'))).toBe(false);
  });

  it('a store failing transiently: the task keeps asking and starts once it answers', async () => {
    const slots = new FakeSlots();
    slots.failures = 3;
    const limits = new SharedLimits(slots, new Map([['browser', 2]]));
    let started = false;
    limits.acquire(entry('bg_1'), () => {
      started = true;
    });
    await until(() => started, 10_000, 'the start', 5);
    expect(slots.failures).toBe(0);
  });

  it('a task that stops waiting (cancelled) before its slot comes never starts and holds no slot', async () => {
    const slots = new FakeSlots();
    const limits = new SharedLimits(slots, new Map([['browser', 1]]));
    const a = entry('bg_1');
    const b = entry('bg_2');
    const started: string[] = [];
    limits.acquire(a, () => started.push('bg_1'));
    await until(() => started.length === 1, 10_000, 'the first start', 5);
    limits.acquire(b, () => started.push('bg_2'));
    limits.release(b); // cancelled while it waits
    limits.release(a);
    await until(() => slots.held.size === 0 && slots.log.includes('give bg_1'), 10_000, 'all given back', 5);
    const c = entry('bg_3');
    limits.acquire(c, () => started.push('bg_3'));
    await until(() => started.includes('bg_3'), 10_000, 'the third start', 5);
    expect(started).toEqual(['bg_1', 'bg_3']);
  });

  it('giving back then asking again at once (an answer right after requestInput): the new claim holds a slot', async () => {
    const slots = new FakeSlots();
    const limits = new SharedLimits(slots, new Map([['browser', 1]]));
    const a = entry('bg_1');
    let starts = 0;
    limits.acquire(a, () => starts++);
    await until(() => starts === 1, 10_000, 'the start', 5);
    limits.release(a);
    limits.acquire(a, () => starts++);
    await until(() => starts === 2, 10_000, 'the resume', 5);
    // The release landed before the new take: the slot is held, not deleted behind the claim.
    expect(slots.held.get('bg_1')).toBe('type:browser');
    expect(slots.log).toEqual(['take bg_1', 'give bg_1', 'take bg_1']);
  });
});
