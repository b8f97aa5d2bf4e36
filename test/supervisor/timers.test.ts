/**
 * The supervisor's task timers: a task with no deadline that is not cancelling arms none; a cancel
 * operation arms one grace timer for all the tasks it moves to `cancelling`; timers are disarmed
 * once the tasks they wait for are done.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createTaskSupervisor, TaskResult, type TimerClock } from '../../src/index.js';
import { gate, opts, parked, until } from '../helpers/async.js';

const GRACE = 1_000;

/** A simulated clock that counts what is armed on it. */
function counted() {
  const clock = new SimulatedClock();
  const armed = new Set<unknown>();
  let total = 0;
  const timers: TimerClock = {
    setTimeout: (fn, ms) => {
      total++;
      const id = clock.setTimeout(() => {
        armed.delete(id);
        fn();
      }, ms);
      armed.add(id);
      return id;
    },
    clearTimeout: (id) => {
      armed.delete(id);
      clock.clearTimeout(id as number);
    },
  };
  const sup = createTaskSupervisor({ clock: timers, now: () => clock.now(), cancelGraceMs: GRACE });
  return { sup, clock, armed: () => armed.size, total: () => total };
}

/** A body that ignores its signal until `release` opens. */
const stubborn = (release: Promise<void>) => async () => {
  await release;
  return 'late';
};

describe('task timers', () => {
  it('a task without a deadline arms no timer while it runs and when it completes', async () => {
    const { sup, total } = counted();
    const hold = gate();
    const id = await sup.spawn(opts(), () => hold.promise);
    expect(total()).toBe(0);
    hold.open();
    expect((await sup.wait(id)).status).toBe('completed');
    expect(total()).toBe(0);
    await sup.stop();
  });

  it('cancelTree arms one grace timer for the whole tree, settling every stubborn task at grace', async () => {
    const { sup, clock, armed, total } = counted();
    const never = new Promise<void>(() => {});
    const root = await sup.spawn(opts(), stubborn(never));
    const kids = await Promise.all(
      Array.from({ length: 20 }, () =>
        sup.spawn(opts({ parentContext: { task_id: root } }), stubborn(never)),
      ),
    );
    expect(sup.cancelTree(root)).toBe(21);
    expect(total()).toBe(1);
    clock.increment(GRACE - 1);
    expect(sup.get(kids[0]!)?.status).toBe('running');
    clock.increment(1);
    for (const id of [root, ...kids]) expect(sup.get(id)?.status).toBe('cancelled');
    expect(armed()).toBe(0);
    await sup.stop();
  });

  it('cancelAll and a run cancel are one batch each', async () => {
    const { sup, total } = counted();
    for (let i = 0; i < 5; i++) await sup.spawn(opts(), parked);
    for (let i = 0; i < 5; i++) await sup.spawn(opts({ parentContext: { run_id: 'r1' } }), parked);
    expect(sup.cancelDescendantsForRun('r1')).toBe(5);
    expect(total()).toBe(1);
    // The run's tasks are still cancelling (counted, not re-armed).
    expect(sup.cancelAll('t')).toBe(10);
    expect(total()).toBe(2);
    await sup.stop();
  });

  it('tasks cancelled at different times each get the full grace period', async () => {
    const { sup, clock } = counted();
    const never = new Promise<void>(() => {});
    const a = await sup.spawn(opts(), stubborn(never));
    const b = await sup.spawn(opts(), stubborn(never));
    sup.cancel(a);
    clock.increment(GRACE / 2);
    sup.cancel(b);
    clock.increment(GRACE / 2);
    expect(sup.get(a)?.status).toBe('cancelled');
    expect(sup.get(b)?.status).toBe('running');
    clock.increment(GRACE / 2 - 1);
    expect(sup.get(b)?.status).toBe('running');
    clock.increment(1);
    expect(sup.get(b)?.status).toBe('cancelled');
    await sup.stop();
  });

  it('the batch timer is disarmed once every member finished; a late member keeps it armed', async () => {
    const { sup, armed } = counted();
    const late = gate();
    const quick = await sup.spawn(opts(), parked);
    const slow = await sup.spawn(opts(), stubborn(late.promise));
    expect(sup.cancelAll('t')).toBe(2);
    expect(armed()).toBe(1);
    expect((await sup.wait(quick)).status).toBe('cancelled');
    expect(armed()).toBe(1);
    late.open();
    expect((await sup.wait(slow)).status).toBe('completed');
    expect(armed()).toBe(0);
    await sup.stop();
  });

  it('a deadline is one timer, disarmed when the task settles first', async () => {
    const { sup, armed, total } = counted();
    const hold = gate();
    const id = await sup.spawn(opts({ timeoutMs: 5_000 }), () =>
      hold.promise.then(() => TaskResult.success(1)),
    );
    expect(total()).toBe(1);
    expect(armed()).toBe(1);
    hold.open();
    expect((await sup.wait(id)).status).toBe('completed');
    expect(armed()).toBe(0);
    await sup.stop();
  });

  it('a deadline cancels the task and its subtree with one grace timer', async () => {
    const { sup, clock, total } = counted();
    const never = new Promise<void>(() => {});
    const root = await sup.spawn(opts({ timeoutMs: 100 }), stubborn(never));
    const kids = await Promise.all(
      Array.from({ length: 5 }, () => sup.spawn(opts({ parentContext: { task_id: root } }), stubborn(never))),
    );
    clock.increment(100);
    expect(total()).toBe(2);
    clock.increment(GRACE);
    await until(() => [root, ...kids].every((id) => sup.get(id)?.status === 'cancelled'));
    expect(sup.get(root)?.error).toBe('task timed out after 100 ms');
    await sup.stop();
  });
});
