import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor } from '../../src/index.js';
import type { Json, TaskContext } from '../../src/index.js';
import { gate, kinds, opts, parked, setup } from '../helpers/async.js';

describe('E. emit: bad input and late calls (§6.3, §6.29)', () => {
  it('§6.29 emit with a BigInt throws TypeError and delivers nothing', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), (ctx) => {
      try {
        ctx.emit('x', { n: 1n } as unknown as Json);
        return 'no throw';
      } catch (e) {
        return { type: (e as Error).constructor.name, message: (e as Error).message };
      }
    });
    const s = await sup.wait(id);
    expect(s.result).toMatchObject({ type: 'TypeError', message: expect.stringMatching(/BigInt/) });
    expect(kinds(events())).toEqual(['completed']);
    await sup.stop();
  });

  it('§6.29 emit with a cycle throws TypeError', async () => {
    const { sup } = setup();
    const cyc: Record<string, unknown> = { a: [] };
    (cyc.a as unknown[]).push(cyc);
    const id = await sup.spawn(opts(), (ctx) => ctx.emit('x', cyc as Json));
    const s = await sup.wait(id);
    // Uncaught, the TypeError fails the task with its message.
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/cycle/);
    await sup.stop();
  });

  it('§6.29 emit with a function anywhere in the payload throws TypeError', async () => {
    const { sup } = setup();
    const thrown = gate<unknown>();
    await sup.spawn(opts(), (ctx) => {
      try {
        ctx.emit('x', { deep: [{ f: () => 1 }] } as unknown as Json);
      } catch (e) {
        thrown.open(e);
      }
    });
    expect(await thrown.promise).toBeInstanceOf(TypeError);
    await sup.stop();
  });

  it('§6.29 emit throws TypeError even when no inbox is bound', async () => {
    const sup = createTaskSupervisor();
    const thrown = gate<unknown>();
    await sup.spawn(opts(), (ctx) => {
      try {
        ctx.emit('x', 5n as unknown as Json);
      } catch (e) {
        thrown.open(e);
      }
    });
    expect(await thrown.promise).toBeInstanceOf(TypeError);
    await sup.stop();
  });

  it('§6.29 undefined object members are dropped from the payload', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), (ctx) => {
      ctx.emit('x', { a: 1, b: undefined } as unknown as Json);
    });
    await sup.wait(id);
    expect(events()[0]).toEqual({ kind: 'custom', task_id: id, event_type: 'x', payload: { a: 1 } });
    await sup.stop();
  });

  it('emit with a non-string event type throws TypeError', async () => {
    const { sup } = setup();
    const thrown = gate<unknown>();
    await sup.spawn(opts(), (ctx) => {
      try {
        ctx.emit(42 as unknown as string);
      } catch (e) {
        thrown.open(e);
      }
    });
    expect(await thrown.promise).toBeInstanceOf(TypeError);
    await sup.stop();
  });

  it('§6.3 / §3.3 emit after the terminal event returns false and delivers nothing', async () => {
    const { sup, events } = setup();
    let kept: TaskContext | undefined;
    const id = await sup.spawn(opts(), (ctx) => {
      kept = ctx;
      return 'done';
    });
    await sup.wait(id);
    expect(kept?.emit('late', { x: 1 })).toBe(false);
    expect(events()).toEqual([{ kind: 'completed', task_id: id, result: 'done' }]);
    expect(sup.stats()).toMatchObject({ eventsDelivered: 1, eventsUndelivered: 0 });
    await sup.stop();
  });

  it('§6.3 emit from a body still running after the grace settled it returns false', async () => {
    const { sup, events } = setup({ cancelGraceMs: 10 });
    const late = gate();
    const result = gate<boolean>();
    const id = await sup.spawn(opts(), async (ctx) => {
      await late.promise;
      result.open(ctx.emit('too late'));
      return 'ignored';
    });
    sup.cancel(id);
    expect((await sup.wait(id)).status).toBe('cancelled');
    late.open();
    expect(await result.promise).toBe(false);
    expect(events()).toEqual([{ kind: 'cancelled', task_id: id }]);
    expect(sup.get(id)?.status).toBe('cancelled');
    await sup.stop();
  });

  it('pinned: emit into a closed inbox returns false and runs onClosed once', async () => {
    const lost: Json[] = [];
    const inbox = createInbox({ onClosed: (m) => lost.push(m) });
    const sup = createTaskSupervisor({ ownerInbox: inbox.sender });
    const g = gate();
    const r = gate<boolean>();
    const id = await sup.spawn(opts(), async (ctx) => {
      await g.promise;
      r.open(ctx.emit('e', 1));
      return parked(ctx);
    });
    inbox.receiver.close();
    g.open();
    expect(await r.promise).toBe(false);
    expect(lost).toEqual([{ kind: 'custom', task_id: id, event_type: 'e', payload: 1 }]);
    expect(sup.stats().eventsUndelivered).toBe(1);
    await sup.stop();
  });

  it('pinned: an inbox whose send throws counts as undelivered and does not break the task', async () => {
    const sup = createTaskSupervisor({
      ownerInbox: {
        send() {
          throw new Error('broken sender');
        },
        trySend: () => false,
        isClosed: () => false,
        clone() {
          return this;
        },
        close() {},
      },
    });
    const id = await sup.spawn(opts(), (ctx) => ctx.emit('x'));
    expect(await sup.wait(id)).toMatchObject({ status: 'completed', result: false });
    expect(sup.stats()).toMatchObject({ eventsDelivered: 0, eventsUndelivered: 2 });
    await sup.stop();
  });
});
