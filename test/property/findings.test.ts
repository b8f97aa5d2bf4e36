/**
 * Divergences the model-based suite found in the runtime, kept as plain regression tests.
 */
import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, TaskResult } from '../../src/index.js';
import { createGates } from '../../src/testing/index.js';

describe('findings of the model-based suite', () => {
  it('cancelTree reaches a live grandchild through a pruned (terminal) middle task (fixed in 967d1ea)', async () => {
    // Found by the contract model as: spawn(run r1) → spawnChild → settle child → prune → … → cancelDescendantsForRun.
    const sup = createTaskSupervisor();
    const gates = createGates();
    const o = { threadId: 't', taskType: 'x', description: '' };
    const root = await sup.spawn(o, (ctx) => ctx.cancelled().then(() => TaskResult.cancelled()));
    const mid = await sup.spawn({ ...o, parentContext: { task_id: root } }, () =>
      gates.wait('mid').then(() => 'done'),
    );
    const leaf = await sup.spawn({ ...o, parentContext: { task_id: mid } }, (ctx) =>
      ctx.cancelled().then(() => TaskResult.cancelled()),
    );
    gates.release('mid');
    await sup.wait(mid);
    expect(sup.prune({})).toBe(1); // memory-only housekeeping: the store still holds mid, leaf still names it as parent
    expect(sup.cancelTree(root)).toBe(2); // root + leaf (mid is terminal); the runtime returns 1
    expect((await sup.wait(leaf)).status).toBe('cancelled');
    await sup.stop();
  });

  it('cancelTree of a pruned id still cascades to its live descendants (the store keeps the record)', async () => {
    const sup = createTaskSupervisor();
    const gates = createGates();
    const o = { threadId: 't1', taskType: 'x', description: '' };
    const a = await sup.spawn(o, () => gates.wait('a').then(() => TaskResult.failed('oops')));
    const b = await sup.spawnAgent(
      { threadId: 't1', description: '', parentContext: { task_id: a } },
      (ctx) => ctx.cancelled().then(() => TaskResult.cancelled()),
    );
    gates.release('a');
    await sup.wait(a);
    expect(sup.prune({})).toBe(1);
    expect(sup.get(a)).toBeUndefined();
    expect(sup.cancelTree(a)).toBe(1);
    expect((await sup.wait(b)).status).toBe('cancelled');
    await sup.stop();
  });

  // Open: found by supervisor.restart.test.ts as spawn → restart → prune → spawnAgent(parent bg_0) → cancelTree(bg_0).
  // The suites name pruned parents too (the model's default).
  it('cancelTree of a pruned id reaches a child spawned (naming it as parent) after the prune', async () => {
    const sup = createTaskSupervisor();
    const o = { threadId: 't1', taskType: 'x', description: '' };
    const a = await sup.spawn(o, () => TaskResult.failed('oops'));
    await sup.wait(a);
    expect(sup.prune({})).toBe(1); // a had no descendants: the runtime forgets it entirely
    const b = await sup.spawn({ ...o, parentContext: { task_id: a } }, (ctx) =>
      ctx.cancelled().then(() => TaskResult.cancelled()),
    );
    // Same tree as when b existed before the prune (see the previous test): the runtime returns 0 here.
    expect(sup.cancelTree(a)).toBe(1);
    expect((await sup.wait(b)).status).toBe('cancelled');
    await sup.stop();
  });

  // Open: found by test/testing/taskScript.test.ts (fc.jsonValue makes such keys; JSON.parse does too).
  it('an own "__proto__" key of a payload or result survives (JSON.parse makes them)', async () => {
    const inbox = createInbox();
    const sup = createTaskSupervisor({ ownerInbox: inbox.sender });
    const value = JSON.parse('{"__proto__":{"x":1},"a":1}');
    const id = await sup.spawn({ threadId: 't', taskType: 'x', description: '' }, (ctx) => {
      ctx.emit('e', value);
      return value;
    });
    const summary = await sup.wait(id);
    const [custom] = inbox.receiver.drain() as Array<{ payload: object }>;
    // The runtime's JSON copy assigns `__proto__`: the key is lost and the copy's prototype replaced.
    expect(Object.keys(custom!.payload)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(summary.result)).toBe('{"__proto__":{"x":1},"a":1}');
    expect(Object.getPrototypeOf(summary.result)).toBe(Object.prototype);
    await sup.stop();
  });
});
