import { describe, expect, it } from 'vitest';
import { createGates, GateAbortedError } from '../../src/testing/index.js';

describe('createGates', () => {
  it('a wait resolves when released, a release before the wait is remembered', async () => {
    const gates = createGates();
    const order: string[] = [];
    const p = gates.wait('a').then(() => order.push('a'));
    expect(gates.waiting()).toEqual(['a']);
    expect(gates.release('b')).toBe(false);
    await gates.wait('b');
    expect(order).toEqual([]);
    expect(gates.release('a')).toBe(true);
    await p;
    expect(order).toEqual(['a']);
    expect(gates.isOpen('a') && gates.waiting().length === 0).toBe(true);
  });

  it('an aborted signal rejects the wait with GateAbortedError and forgets the waiter', async () => {
    const gates = createGates();
    const c = new AbortController();
    const p = gates.wait('x', c.signal);
    c.abort();
    await expect(p).rejects.toBeInstanceOf(GateAbortedError);
    expect(gates.waiting()).toEqual([]);
    await expect(gates.wait('y', c.signal)).rejects.toMatchObject({ name: 'AbortError', gate: 'y' });
  });

  it('releaseAll opens every awaited gate', async () => {
    const gates = createGates();
    const all = Promise.all([gates.wait('a'), gates.wait('b'), gates.wait('a')]);
    expect(gates.releaseAll()).toEqual(['a', 'b']);
    await all;
  });
});
