import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { taskMachine } from '../../machines/task.machine.js';
import type { TaskFinalState, TaskMachineEvent } from '../../machines/task.machine.js';
import { lifecycleEvent, lifecyclePaths } from '../../src/graph/lifecycle.js';
import { TaskResult } from '../../src/index.js';
import { until } from '../helpers/async.js';

const GRACE = 1_000;
const TIMEOUT = 5_000;

/** A task actor on a simulated clock, recording its `abortBody` action and its final state. */
function start(timeoutMs?: number) {
  const log: string[] = [];
  const clock = new SimulatedClock();
  const machine = taskMachine.provide({
    actions: {
      abortBody: ({ context }) => log.push(`abort:${context.taskId}`),
    },
  });
  const actor = createActor(machine, {
    input: { taskId: 'bg_0', cancelGraceMs: GRACE, timeoutMs },
    clock,
  });
  // Observers see the final snapshot once.
  actor.subscribe((s) => {
    if (s.status === 'done') log.push(`report:${s.context.taskId}:${s.value as TaskFinalState}`);
  });
  actor.start();
  return { actor, log, clock };
}

const returned = (r: TaskResult): TaskMachineEvent => ({
  type: 'task.settled',
  outcome: { type: 'returned', result: r },
});
const threw: TaskMachineEvent = { type: 'task.settled', outcome: { type: 'threw', error: 'boom' } };
const cancel: TaskMachineEvent = { type: 'task.cancel' };

describe('taskMachine transitions', () => {
  it('starts in running.active with its input as context', () => {
    const { actor, log } = start();
    expect(actor.getSnapshot().value).toEqual({ running: 'active' });
    expect(actor.getSnapshot().context).toEqual({ taskId: 'bg_0', cancelGraceMs: GRACE });
    expect(log).toEqual([]);
  });

  const fromActive: Array<[string, TaskMachineEvent, TaskFinalState]> = [
    ['success', returned(TaskResult.success({ a: 1 })), 'completed'],
    ['failure', returned(TaskResult.failed('x')), 'failed'],
    ['cancelled result', returned(TaskResult.cancelled()), 'cancelled'],
    ['a throw', threw, 'failed'],
  ];
  for (const [what, event, final] of fromActive) {
    it(`running.active + ${what} → ${final}, reported once`, () => {
      const { actor, log } = start();
      actor.send(event);
      expect(actor.getSnapshot().value).toBe(final);
      expect(actor.getSnapshot().status).toBe('done');
      expect(log).toEqual([`report:bg_0:${final}`]);
    });
  }

  it('running.active + task.cancel → running.cancelling, aborting the body once; repeats are ignored', () => {
    const { actor, log } = start();
    actor.send(cancel);
    expect(actor.getSnapshot().value).toEqual({ running: 'cancelling' });
    actor.send(cancel);
    actor.send(cancel);
    expect(actor.getSnapshot().value).toEqual({ running: 'cancelling' });
    expect(log).toEqual(['abort:bg_0']);
  });

  const fromCancelling: Array<[string, TaskMachineEvent, TaskFinalState]> = [
    ['success', returned(TaskResult.success('late')), 'completed'],
    ['failure', returned(TaskResult.failed('x')), 'failed'],
    ['cancelled result', returned(TaskResult.cancelled()), 'cancelled'],
    ['a throw (AbortError)', threw, 'cancelled'],
  ];
  for (const [what, event, final] of fromCancelling) {
    it(`running.cancelling + ${what} → ${final}`, () => {
      const { actor, log } = start();
      actor.send(cancel);
      actor.send(event);
      expect(actor.getSnapshot().value).toBe(final);
      expect(log).toEqual(['abort:bg_0', `report:bg_0:${final}`]);
    });
  }

  it('running.cancelling + the grace timer → cancelled, not before', () => {
    const { actor, log, clock } = start();
    actor.send(cancel);
    clock.increment(GRACE - 1);
    expect(actor.getSnapshot().value).toEqual({ running: 'cancelling' });
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('cancelled');
    expect(log).toEqual(['abort:bg_0', 'report:bg_0:cancelled']);
  });

  it('the grace timer is not armed while running.active', () => {
    const { actor, clock } = start();
    clock.increment(GRACE * 10);
    expect(actor.getSnapshot().value).toEqual({ running: 'active' });
  });

  it('the deadline moves running.active to running.cancelling at timeoutMs, not before, marking timedOut', () => {
    const { actor, log, clock } = start(TIMEOUT);
    clock.increment(TIMEOUT - 1);
    expect(actor.getSnapshot().value).toEqual({ running: 'active' });
    clock.increment(1);
    expect(actor.getSnapshot().value).toEqual({ running: 'cancelling' });
    expect(actor.getSnapshot().context.timedOut).toBe(true);
    expect(log).toEqual(['abort:bg_0']);
    clock.increment(GRACE);
    expect(actor.getSnapshot().value).toBe('cancelled');
    expect(log).toEqual(['abort:bg_0', 'report:bg_0:cancelled']);
  });

  it('no deadline without timeoutMs; a cancel before the deadline disarms it; settling disarms it', () => {
    const none = start();
    none.clock.increment(1e9);
    expect(none.actor.getSnapshot().value).toEqual({ running: 'active' });
    const cancelled = start(TIMEOUT);
    cancelled.actor.send(cancel);
    cancelled.clock.increment(TIMEOUT);
    expect(cancelled.actor.getSnapshot().context.timedOut).toBeUndefined();
    const settled = start(TIMEOUT);
    settled.actor.send(returned(TaskResult.success(1)));
    settled.clock.increment(TIMEOUT * 2);
    expect(settled.actor.getSnapshot().value).toBe('completed');
    expect(settled.log).toEqual(['report:bg_0:completed']);
  });

  it('settling inside the grace cancels the timer', () => {
    const { actor, log, clock } = start();
    actor.send(cancel);
    actor.send(returned(TaskResult.success(1)));
    clock.increment(GRACE * 2);
    expect(actor.getSnapshot().value).toBe('completed');
    expect(log).toEqual(['abort:bg_0', 'report:bg_0:completed']);
  });

  it('final states accept nothing: no second report, no status change', () => {
    const { actor, log, clock } = start();
    actor.send(returned(TaskResult.success(1)));
    actor.send(cancel);
    actor.send(threw);
    actor.send(returned(TaskResult.failed('x')));
    clock.increment(GRACE * 2);
    expect(actor.getSnapshot().value).toBe('completed');
    expect(log).toEqual(['report:bg_0:completed']);
  });

  it('unbranded result-shaped outcomes do not match the guards (they fail, like a bad result)', () => {
    const { actor } = start();
    actor.send({
      type: 'task.settled',
      outcome: { type: 'returned', result: { status: 'weird' } as unknown as TaskResult },
    });
    expect(actor.getSnapshot().value).toBe('failed');
  });

  it('the pure machine runs with its no-op actions', () => {
    const actor = createActor(taskMachine, { input: { taskId: 'bg_1', cancelGraceMs: 0 } }).start();
    actor.send(cancel);
    actor.send(threw);
    expect(actor.getSnapshot().value).toBe('cancelled');
  });
});

describe('taskMachine: every simple path from @xstate/graph', () => {
  const paths = lifecyclePaths();

  it('the lifecycle has exactly the expected simple paths', () => {
    const states = paths.map((p) => p.state).sort();
    expect(new Set(states)).toEqual(
      new Set(['running.active', 'running.cancelling', 'completed', 'failed', 'cancelled']),
    );
    // 1 empty + 4 from active + 2 ways into cancelling (cancel, deadline) × (1 + 5 from
    // cancelling: 4 settles and the grace timer).
    expect(paths).toHaveLength(17);
  });

  for (const path of paths) {
    it(`path [${path.events.join(', ') || 'initial'}] ends in ${path.state}`, () => {
      const { actor, log, clock } = start(path.events.includes('after:deadline') ? TIMEOUT : undefined);
      for (const name of path.events) {
        if (name === 'after:cancelGrace') clock.increment(GRACE);
        else if (name === 'after:deadline') clock.increment(TIMEOUT);
        else actor.send(lifecycleEvent(name));
      }
      const value = actor.getSnapshot().value;
      const dotted = typeof value === 'string' ? value : `running.${(value as { running: string }).running}`;
      expect(dotted).toBe(path.state);
      const reports = log.filter((l) => l.startsWith('report:'));
      const final = !path.state.startsWith('running');
      expect(reports).toEqual(final ? [`report:bg_0:${path.state}`] : []);
      expect(log.filter((l) => l.startsWith('abort:'))).toHaveLength(
        path.events.includes('task.cancel') || path.events.includes('after:deadline') ? 1 : 0,
      );
      expect(actor.getSnapshot().context.timedOut === true).toBe(path.events.includes('after:deadline'));
    });
  }
});

describe("taskMachine on XState's default clock (real timers, no supervisor)", () => {
  /** Starts the exported machine exactly as its TSDoc shows, counting the timers it schedules. */
  function startReal(input: { taskId: string; cancelGraceMs: number; timeoutMs?: number }) {
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const actor = createActor(taskMachine, { input }).start();
    return { actor, timers };
  }
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
    vi.restoreAllMocks();
  });
  /** A real timer of `ms` (the wait shows that nothing happens meanwhile). */
  const elapse = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  it('with no deadline it schedules no timer and stays running.active', async () => {
    const { actor, timers } = startReal({ taskId: 'bg_0', cancelGraceMs: 1_000 });
    expect(timers).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    await elapse(30);
    expect(actor.getSnapshot().value).toEqual({ running: 'active' });
    expect(actor.getSnapshot().context.timedOut).toBeUndefined();
    expect(warnings).not.toContain('TimeoutOverflowWarning');
    actor.stop();
  });

  it('timeoutMs: Infinity is no deadline either; an infinite grace arms no timer when cancelled', async () => {
    const { actor, timers } = startReal({
      taskId: 'bg_0',
      cancelGraceMs: Number.POSITIVE_INFINITY,
      timeoutMs: Number.POSITIVE_INFINITY,
    });
    actor.send(cancel);
    expect(timers).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    await elapse(30);
    expect(actor.getSnapshot().value).toEqual({ running: 'cancelling' });
    expect(warnings).not.toContain('TimeoutOverflowWarning');
    actor.stop();
  });

  it('a real deadline still fires, and the grace timer after it', async () => {
    const actor = createActor(taskMachine, {
      input: { taskId: 'bg_0', cancelGraceMs: 20, timeoutMs: 20 },
    }).start();
    expect(actor.getSnapshot().value).toEqual({ running: 'active' });
    await until(() => actor.getSnapshot().status === 'done', 5_000);
    expect(actor.getSnapshot().value).toBe('cancelled');
    expect(actor.getSnapshot().context.timedOut).toBe(true);
  });
});
