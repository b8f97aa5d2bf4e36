import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor } from '../../src/index.js';
import type { TaskEvent } from '../../src/index.js';

describe('onEvent: observing task events without taking them from the inbox', () => {
  it('sees custom events then the terminal one, per thread and per task, while the inbox still gets them', async () => {
    const inbox = createInbox();
    const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
    const all: TaskEvent[] = [];
    const thread2: TaskEvent[] = [];
    supervisor.onEvent((e) => all.push(e));
    supervisor.onEvent((e) => thread2.push(e), { threadId: 't2' });
    const a = await supervisor.spawn({ threadId: 't1', taskType: 'x', description: 'a' }, (ctx) => {
      ctx.emit('progress', { n: 1 });
      return 'done';
    });
    const b = await supervisor.spawn({ threadId: 't2', taskType: 'x', description: 'b' }, () => 1);
    const byTask: TaskEvent[] = [];
    supervisor.onEvent((e) => byTask.push(e), { taskId: a });
    await supervisor.wait(a);
    await supervisor.wait(b);
    expect(all.filter((e) => e.task_id === a).map((e) => e.kind)).toEqual(['custom', 'completed']);
    expect(thread2).toEqual([{ kind: 'completed', task_id: b, result: 1 }]);
    expect(byTask.every((e) => e.task_id === a)).toBe(true);
    expect(inbox.receiver.drain()).toHaveLength(3);
    await supervisor.stop();
  });

  it('sees custom events of a task with no inbox at all, and survives a throwing listener', async () => {
    const supervisor = createTaskSupervisor();
    const seen: string[] = [];
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    supervisor.onEvent(() => {
      throw new Error('observer bug');
    });
    const stop = supervisor.onEvent((e) => seen.push(e.kind));
    const id = await supervisor.spawn({ threadId: 't', taskType: 'x', description: 'd' }, (ctx) => {
      ctx.emit('tick');
      return null;
    });
    expect((await supervisor.wait(id)).status).toBe('completed');
    stop();
    expect(seen).toEqual(['custom', 'completed']);
    await supervisor.stop();
    process.off('warning', onWarning);
  });

  it('rejects a non-function listener and a bad filter with TypeError', () => {
    const supervisor = createTaskSupervisor();
    expect(() => supervisor.onEvent(42 as never)).toThrow('Expected `listener` to be a function, got number');
    expect(() => supervisor.onEvent(() => {}, { threadId: 7 as never })).toThrow(
      'Expected `filter.threadId` to be a string, got number',
    );
  });
});
