import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createInbox, createTaskSupervisor, isTerminal, TaskResult } from '../../src/index.js';
import { FlakyStore, gate, opts, parked, setup } from '../helpers/async.js';

describe('A. basic types through the supervisor', () => {
  it('A5 a task signal starts un-aborted and aborts on cancel', async () => {
    const { sup } = setup();
    const before = gate<[boolean, boolean]>();
    const id = await sup.spawn(opts(), async (ctx) => {
      before.open([ctx.signal.aborted, ctx.isCancelled()]);
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      return TaskResult.cancelled();
    });
    expect(await before.promise).toEqual([false, false]);
    sup.cancel(id);
    expect((await sup.wait(id)).status).toBe('cancelled');
    await sup.stop();
  });

  it('A5 a signal read for the first time after cancel is already aborted', async () => {
    const { sup } = setup();
    const g = gate();
    const id = await sup.spawn(opts(), async (ctx) => {
      await g.promise;
      return { aborted: ctx.signal.aborted };
    });
    sup.cancel(id);
    g.open();
    expect((await sup.wait(id)).result).toEqual({ aborted: true });
    await sup.stop();
  });

  it('A3 / A6 each TaskResult shape leads to its status; a new task is running (not terminal)', async () => {
    const { sup } = setup();
    for (const r of [TaskResult.success(null), TaskResult.failed('err'), TaskResult.cancelled()]) {
      const id = await sup.spawn(opts(), () => r);
      const s = await sup.wait(id);
      expect(s.status).toBe(TaskResult.status(r));
      expect(isTerminal(s.status)).toBe(true);
    }
    const live = await sup.spawn(opts(), parked);
    expect(isTerminal(sup.get(live)?.status ?? 'completed')).toBe(false);
    await sup.stop();
  });
});

describe('I. store and inbox slots', () => {
  it('I24 / §6.19 the store is fixed at construction; the owner inbox is replaceable', async () => {
    const store = new FlakyStore();
    const sup = createTaskSupervisor({ store });
    expect((sup as unknown as { setStore?: unknown }).setStore).toBeUndefined();
    const id = await sup.spawn(opts(), () => 1);
    await sup.wait(id);
    await sup.stop();
    expect((await store.record(id))?.status).toBe('completed');
  });

  it('I23 restore writes, completion writes and sub-agent writes all count in storeFailures', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const plain = await sup.spawn(opts(), parked);
    const agent = await sup.spawnAgent({ threadId: 't', description: 'a' }, parked);
    store.failing = true;
    const before = store.attempts;
    sup.cancelAll('t');
    await Promise.all([sup.wait(plain), sup.wait(agent)]);
    await sup.restoreForThread('t', [
      {
        task_id: 'bg_77',
        owner_thread_id: 't',
        task_type: 'x',
        description: 'r',
        status: 'running',
        created_at_ms: 1,
        parent_context: {},
      },
    ]);
    expect(sup.stats().storeFailures).toBe(store.attempts - before);
    expect(sup.stats().storeFailures).toBeGreaterThanOrEqual(2);
    store.failing = false;
    await sup.stop();
  });
});

describe('inspect', () => {
  it('the inspect option receives the supervisor and task actors, task actors as its children', async () => {
    const events: InspectionEvent[] = [];
    const sup = createTaskSupervisor({ inspect: (e) => events.push(e) });
    const id = await sup.spawn(opts(), parked);
    sup.cancel(id);
    await sup.wait(id);
    await sup.stop();
    const created = events.filter((e) => e.type === '@xstate.actor');
    const task = created.find((e) => (e.actorRef as { id?: string }).id === id);
    expect(task).toBeDefined();
    expect((task?.actorRef as { _parent?: unknown } | undefined)?._parent).toBe(sup.actor);
    expect(events.some((e) => e.type === '@xstate.event' && e.event.type === 'task.cancel')).toBe(true);
    // The task actor's init event carries its input, and each transition is reported as a microstep.
    const init = events.find(
      (e) => e.type === '@xstate.event' && e.event.type === 'xstate.init' && e.actorRef === task?.actorRef,
    );
    expect((init as { event?: { input?: { taskId?: string } } } | undefined)?.event?.input?.taskId).toBe(id);
    const steps = events.filter((e) => e.type === '@xstate.microstep' && e.actorRef === task?.actorRef);
    expect(steps.map((e) => (e as unknown as { snapshot: { value: unknown } }).snapshot.value)).toEqual([
      { running: 'cancelling' },
      'cancelled',
    ]);
  });

  it('an observer object is accepted too', async () => {
    let n = 0;
    const sup = createTaskSupervisor({ inspect: { next: () => n++ } });
    await sup.wait(await sup.spawn(opts(), () => 1));
    await sup.stop();
    expect(n).toBeGreaterThan(0);
  });
});

describe('SpawnOptions.inbox precedence', () => {
  it('an explicit inbox wins over the enclosing sub-agent inbox', async () => {
    const { sup, events } = setup();
    const own = createInbox();
    const agentGot = gate<number>();
    const id = await sup.spawnAgent({ threadId: 't', description: 'a' }, async (ctx) => {
      const child = await sup.spawn({ ...opts(), inbox: own.sender }, () => 'to own');
      await sup.wait(child);
      agentGot.open(ctx.inboxReceiver.size);
      return 'agent done';
    });
    expect(await agentGot.promise).toBe(0);
    await sup.wait(id);
    expect(own.receiver.drain()).toEqual([{ kind: 'completed', task_id: 'bg_1', result: 'to own' }]);
    expect(events()).toEqual([{ kind: 'completed', task_id: id, result: 'agent done' }]);
    await sup.stop();
  });
});
