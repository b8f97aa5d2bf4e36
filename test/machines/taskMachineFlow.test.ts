/** The exported task machine's queued, waiting and stop-reason transitions, outside any supervisor (XState's default clock). */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { TaskResult, taskMachine } from '../../src/index.js';

const INPUT = { taskId: 'bg_0', cancelGraceMs: 60_000 };
const queued = () =>
  createActor(taskMachine, {
    input: INPUT,
    snapshot: taskMachine.resolveState({ value: 'queued', context: { ...INPUT } }) as never,
  }).start();

describe('taskMachine: queued, running.waiting and stop reasons', () => {
  it('queued → running.active on task.start; a cancel while queued ends it cancelled at once with its reason', () => {
    const a = queued();
    expect(a.getSnapshot().value).toBe('queued');
    a.send({ type: 'task.start' });
    expect(a.getSnapshot().value).toEqual({ running: 'active' });
    a.stop();
    const b = queued();
    b.send({ type: 'task.cancel', reason: 'run' });
    expect(b.getSnapshot().value).toBe('cancelled');
    expect(b.getSnapshot().context.stopReason).toBe('run');
    b.stop();
  });

  it('active ⇄ waiting; a cancel while waiting goes to cancelling; the first reason is kept', () => {
    const a = createActor(taskMachine, { input: INPUT }).start();
    a.send({ type: 'task.input.requested', activeMs: 10 });
    expect(a.getSnapshot().value).toEqual({ running: 'waiting' });
    a.send({ type: 'task.input.provided' });
    expect(a.getSnapshot().value).toEqual({ running: 'active' });
    a.send({ type: 'task.input.requested' });
    a.send({ type: 'task.cancel', reason: 'budget' });
    a.send({ type: 'task.cancel', reason: 'user' });
    expect(a.getSnapshot().value).toEqual({ running: 'cancelling' });
    expect(a.getSnapshot().context.stopReason).toBe('budget');
    a.send({ type: 'task.settled', outcome: { type: 'returned', result: TaskResult.cancelled() } });
    expect(a.getSnapshot().value).toBe('cancelled');
    a.stop();
  });

  it('a body that settles while waiting (it raced the answer) ends as it returned', () => {
    const a = createActor(taskMachine, { input: INPUT }).start();
    a.send({ type: 'task.input.requested' });
    a.send({ type: 'task.settled', outcome: { type: 'returned', result: TaskResult.success(1) } });
    expect(a.getSnapshot().value).toBe('completed');
    a.stop();
  });

  it('a wait for input keeps what was left of the deadline', () => {
    const a = createActor(taskMachine, { input: { ...INPUT, timeoutMs: 1_000 } }).start();
    a.send({ type: 'task.input.requested', activeMs: 400 });
    expect(a.getSnapshot().context.deadlineLeftMs).toBe(600);
    a.send({ type: 'task.input.provided' });
    a.send({ type: 'task.input.requested', activeMs: 700 });
    expect(a.getSnapshot().context.deadlineLeftMs).toBe(0);
    a.stop();
  });
});
