import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, TaskResult } from '../../src/index.js';
import type { InboxSender, Json, PersistedTaskMeta, TaskEvent } from '../../src/index.js';
import { FlakyStore, gate, opts, parked, setup } from '../helpers/async.js';

describe('D. status transitions, results, terminal events', () => {
  it('D1 success: completed, completed_at_ms present, result kept', async () => {
    const { sup, clock } = setup();
    const g = gate();
    const id = await sup.spawn(opts(), async () => {
      await g.promise;
      return TaskResult.success({ answer: 42 });
    });
    clock.set(5_000);
    g.open();
    const s = await sup.wait(id);
    expect(s).toEqual({
      task_id: id,
      task_type: 'test',
      description: 'd',
      status: 'completed',
      result: { answer: 42 },
      created_at_ms: 1_000,
      completed_at_ms: 5_000,
    });
    expect(sup.get(id)).toEqual(s);
    await sup.stop();
  });

  it('D2 TaskResult.failed: failed with the error', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), () => TaskResult.failed('oops'));
    expect(await sup.wait(id)).toMatchObject({ status: 'failed', error: 'oops', completed_at_ms: 1_000 });
    expect(sup.get(id)).not.toHaveProperty('result');
    await sup.stop();
  });

  it('D3 parked, success and failure side by side', async () => {
    const { sup } = setup();
    const p = await sup.spawn(opts(), parked);
    const ok = await sup.spawn(opts(), () => TaskResult.success('ok'));
    const bad = await sup.spawn(opts(), () => TaskResult.failed('boom'));
    await Promise.all([sup.wait(ok), sup.wait(bad)]);
    expect(sup.get(p)?.status).toBe('running');
    expect(sup.get(p)).not.toHaveProperty('completed_at_ms');
    expect(sup.get(ok)).toMatchObject({ status: 'completed', result: 'ok', completed_at_ms: 1_000 });
    expect(sup.get(bad)).toMatchObject({ status: 'failed', error: 'boom', completed_at_ms: 1_000 });
    await sup.stop();
  });

  it('D4 nested results are kept as returned', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), () => TaskResult.success({ key: 'value', nested: [1, 2, 3] }));
    expect((await sup.wait(id)).result).toEqual({ key: 'value', nested: [1, 2, 3] });
    await sup.stop();
  });

  it('D5 one-shot success and failure patterns', async () => {
    const { sup } = setup();
    const a = await sup.spawn(opts(), async () => TaskResult.success({ sum: 42 }));
    const b = await sup.spawn(opts(), async () => TaskResult.failed('connection refused'));
    expect(await sup.wait(a)).toMatchObject({ status: 'completed', result: { sum: 42 } });
    expect(await sup.wait(b)).toMatchObject({ status: 'failed', error: 'connection refused' });
    await sup.stop();
  });

  it('D6 events never alter the result', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), (ctx) => {
      for (let i = 0; i < 3; i++) ctx.emit('step', { i });
      return TaskResult.success({ final: 'answer' });
    });
    expect(await sup.wait(id)).toMatchObject({ status: 'completed', result: { final: 'answer' } });
    await sup.stop();
  });

  it('D7 a finished task keeps its result and completed_at_ms; its actor is gone', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), () => ({ answer: 42 }));
    await sup.wait(id);
    expect(sup.taskActor(id)).toBeUndefined();
    expect(sup.get(id)).toMatchObject({ result: { answer: 42 }, completed_at_ms: 1_000 });
    await sup.stop();
  });

  it('D8 get and list read the same record', async () => {
    const { sup } = setup();
    const id = await sup.spawn({ ...opts(), threadId: 'thread-1' }, () => TaskResult.success({ x: 1 }));
    await sup.wait(id);
    expect(sup.get(id)).toMatchObject({ status: 'completed', result: { x: 1 } });
    expect(sup.list('thread-1')).toEqual([sup.get(id)]);
    await sup.stop();
  });

  it('D9 the completed event carries the result', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), () => TaskResult.success({ score: 3.125 }));
    await sup.wait(id);
    expect(events()).toEqual([{ kind: 'completed', task_id: id, result: { score: 3.125 } }]);
    await sup.stop();
  });

  it('D10 the failed event carries the error', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), () => TaskResult.failed('disk full'));
    await sup.wait(id);
    expect(events()).toEqual([{ kind: 'failed', task_id: id, error: 'disk full' }]);
    await sup.stop();
  });

  it('D11 completion sends a completed event to the owner inbox', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), () => TaskResult.success('ok'));
    await sup.wait(id);
    expect(events().some((e) => e.kind === 'completed')).toBe(true);
    await sup.stop();
  });

  it('D12 the cancelled event has exactly kind and task_id', async () => {
    const { sup, events } = setup();
    const id = await sup.spawn(opts(), parked);
    sup.cancel(id);
    await sup.wait(id);
    expect(events()).toEqual([{ kind: 'cancelled', task_id: id }]);
    expect(Object.keys(events()[0] as object)).toEqual(['kind', 'task_id']);
    await sup.stop();
  });

  it('D13 a body that returns success after cancellation ends completed', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), async (ctx) => {
      await ctx.cancelled();
      return 'finished anyway';
    });
    expect(sup.cancel(id)).toBe(true);
    expect(await sup.wait(id)).toMatchObject({ status: 'completed', result: 'finished anyway' });
    await sup.stop();
  });

  it('D13 a body that ignores cancellation stays running until it returns (§3.9)', async () => {
    const { sup } = setup();
    const g = gate();
    const id = await sup.spawn(opts(), () => g.promise.then(() => 'done'));
    expect(sup.cancel(id)).toBe(true);
    expect(sup.get(id)?.status).toBe('running');
    expect(sup.hasRunning('t')).toBe(true);
    g.open();
    expect((await sup.wait(id)).status).toBe('completed');
    await sup.stop();
  });

  it('D13 failed sets error only, completed sets result only, cancelled neither; created_at_ms kept', async () => {
    const { sup, clock } = setup();
    const a = await sup.spawn(opts(), () => TaskResult.failed('e'));
    const b = await sup.spawn(opts(), () => 'r');
    clock.set(2_000);
    const c = await sup.spawn(opts(), parked);
    clock.set(3_000);
    sup.cancel(c);
    await Promise.all([a, b, c].map((id) => sup.wait(id)));
    expect(sup.get(a)).toMatchObject({ error: 'e', created_at_ms: 1_000 });
    expect(sup.get(a)).not.toHaveProperty('result');
    expect(sup.get(b)).toMatchObject({ result: 'r' });
    expect(sup.get(b)).not.toHaveProperty('error');
    expect(sup.get(c)).toEqual({
      task_id: c,
      task_type: 'test',
      description: 'd',
      status: 'cancelled',
      created_at_ms: 2_000,
      completed_at_ms: 3_000,
      // Why it stopped is data (a caller's cancel); neither `result` nor `error`.
      stop_reason: 'user',
    });
    await sup.stop();
  });

  it('D14 / §6.1 the terminal record is in memory and written before the terminal event arrives', async () => {
    const store = new FlakyStore();
    const written: PersistedTaskMeta[][] = [];
    const origPut = store.put.bind(store);
    store.put = async (records) => {
      written.push(records.map((r) => ({ ...r })));
      return origPut(records);
    };
    const inbox = createInbox();
    const seen: Array<{ memory: string | undefined; running: boolean; stored: boolean }> = [];
    const sup = createTaskSupervisor({ store });
    const probe: InboxSender = {
      ...inbox.sender,
      send(msg: Json) {
        const e = msg as TaskEvent;
        if (e.kind !== 'custom') {
          seen.push({
            memory: sup.get(e.task_id)?.status,
            running: sup.hasRunning('t'),
            stored: written.flat().some((r) => r.task_id === e.task_id && r.status === e.kind),
          });
        }
        return inbox.sender.send(msg);
      },
    };
    sup.setOwnerInbox(probe);
    const id = await sup.spawn(opts(), () => 1);
    await sup.wait(id);
    expect(seen).toEqual([{ memory: 'completed', running: false, stored: true }]);
    await sup.stop();
  });

  it('D15 success(null) and undefined: the event has result null, the summary omits result', async () => {
    const { sup, events } = setup();
    const a = await sup.spawn(opts(), () => TaskResult.success());
    const b = await sup.spawn(opts(), () => undefined);
    const c = await sup.spawn(opts(), async () => null);
    await Promise.all([a, b, c].map((id) => sup.wait(id)));
    expect(events()).toEqual([a, b, c].map((id) => ({ kind: 'completed', task_id: id, result: null })));
    for (const id of [a, b, c]) expect(sup.get(id)).not.toHaveProperty('result');
    expect(sup.persistedSnapshot()[a]).not.toHaveProperty('result');
    await sup.stop();
  });

  it('a terminal summary and its result are frozen, in the same key order; the body keeps its own object unfrozen', async () => {
    const { sup } = setup();
    const mine = { nested: { list: [1, { deep: true }] } };
    const id = await sup.spawn(opts(), () => mine);
    const done = await sup.wait(id);
    expect(done.status).toBe('completed');
    expect(Object.isFrozen(done)).toBe(true);
    const result = done.result as { nested: { list: [number, { deep: boolean }] } };
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.nested.list[1])).toBe(true);
    expect(Object.isFrozen(mine)).toBe(false);
    expect(Object.keys(done)).toEqual([
      'task_id',
      'task_type',
      'description',
      'status',
      'created_at_ms',
      'completed_at_ms',
      'result',
    ]);
    await sup.stop();
  });
});
