import { describe, expect, it } from 'vitest';
import { createEventTap } from '../../src/graph/inspector/events.js';
import { createInbox, createTaskSupervisor, TaskResult } from '../../src/index.js';
import type { TaskEvent } from '../../src/index.js';
import { opts } from '../helpers/async.js';

describe('bounded owner inbox (issue 11: an undrained owner inbox stays flat)', () => {
  it('200 emits into a capacity-10 inbox keep the newest 10 plus the terminal event; stats count the drops', async () => {
    const inbox = createInbox({ capacity: 10 });
    const sup = createTaskSupervisor({ ownerInbox: inbox.sender });
    const id = await sup.spawn(opts(), (ctx) => {
      for (let i = 0; i < 200; i++) expect(ctx.emit('progress', i)).toBe(true);
      return TaskResult.success('ok');
    });
    await sup.wait(id);
    const events = inbox.receiver.drain() as TaskEvent[];
    expect(events).toHaveLength(10);
    expect(events.at(-1)).toEqual({ kind: 'completed', task_id: id, result: 'ok' });
    expect(events.slice(0, 9).map((e) => (e.kind === 'custom' ? e.payload : null))).toEqual([
      191, 192, 193, 194, 195, 196, 197, 198, 199,
    ]);
    expect(inbox.receiver.dropped).toBe(191);
    expect(sup.stats()).toMatchObject({ eventsDelivered: 201, eventsUndelivered: 0, eventsDropped: 191 });
    await sup.stop();
  });

  it('counts drops through the inspector tap wrapper and not for senders that do not report them', async () => {
    const inbox = createInbox({ capacity: 2 });
    const tap = createEventTap();
    const sup = createTaskSupervisor({ ownerInbox: tap.wrap(inbox.sender) });
    const id = await sup.spawn(opts(), (ctx) => {
      for (let i = 0; i < 5; i++) ctx.emit('p', i);
    });
    await sup.wait(id);
    expect(sup.stats().eventsDropped).toBe(4);
    const plain = createTaskSupervisor({ ownerInbox: { send: () => true } as never });
    const id2 = await plain.spawn(opts(), (ctx) => {
      ctx.emit('p', 1);
    });
    await plain.wait(id2);
    expect(plain.stats()).toMatchObject({ eventsDelivered: 2, eventsDropped: 0 });
    await sup.stop();
    await plain.stop();
  });
});
