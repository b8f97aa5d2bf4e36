import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, StoreError, TaskResult } from '../../src/index.js';
import type { Json } from '../../src/index.js';
import { FlakyStore, gate, opts, parked, setup, until } from '../helpers/async.js';

describe('I. persistence', () => {
  it('I7 a record is upserted: one entry per task through running → completed', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const g = gate();
    const id = await sup.spawn(opts(), () => g.promise.then(() => 'ok'));
    expect((await store.load()).map((r) => [r.task_id, r.status])).toEqual([[id, 'running']]);
    g.open();
    await sup.wait(id);
    expect((await store.load()).map((r) => [r.task_id, r.status])).toEqual([[id, 'completed']]);
    expect(Object.keys(sup.persistedSnapshot())).toEqual([id]);
    await sup.stop();
  });

  it('I10 the persisted snapshot holds every thread’s tasks', async () => {
    const { sup } = setup();
    const a = await sup.spawn({ ...opts(), threadId: 'thread-1' }, () => TaskResult.success());
    const b = await sup.spawn({ ...opts(), threadId: 'thread-2' }, () => TaskResult.failed('timeout'));
    await Promise.all([sup.wait(a), sup.wait(b)]);
    const snap = sup.persistedSnapshot();
    expect(Object.keys(snap).sort()).toEqual([a, b]);
    expect(snap[a]).toMatchObject({ owner_thread_id: 'thread-1', status: 'completed' });
    expect(snap[b]).toMatchObject({ owner_thread_id: 'thread-2', status: 'failed', error: 'timeout' });
    await sup.stop();
  });

  it('I11 the persisted snapshot includes running tasks without completed_at_ms', async () => {
    const { sup } = setup();
    const done = await sup.spawn(opts(), () => 1);
    const live = await sup.spawn(opts(), parked);
    await sup.wait(done);
    const snap = sup.persistedSnapshot();
    expect(Object.keys(snap)).toHaveLength(2);
    expect(snap[live]).toEqual({
      task_id: live,
      owner_thread_id: 't',
      task_type: 'test',
      description: 'd',
      status: 'running',
      created_at_ms: 1_000,
      parent_context: {},
    });
    expect(Object.values(snap).filter((m) => m.status !== 'running')).toHaveLength(1);
    await sup.stop();
  });

  it('I12 the persisted record carries the result', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const id = await sup.spawn(opts(), () => TaskResult.success({ exit_code: 0 }));
    await sup.wait(id);
    expect(sup.persistedSnapshot()[id]).toMatchObject({ status: 'completed', result: { exit_code: 0 } });
    expect(await store.record(id)).toMatchObject({ status: 'completed', result: { exit_code: 0 } });
    await sup.stop();
  });

  it('I20/I21 / §6.16 a failed completion write: memory terminal, event delivered, counted, retried', async () => {
    const store = new FlakyStore();
    const { sup, events } = setup({ store });
    const g = gate();
    const id = await sup.spawn(opts(), () => g.promise.then(() => ({ answer: 42 })));
    store.failing = true;
    g.open();
    const s = await sup.wait(id);
    expect(s).toMatchObject({ status: 'completed', result: { answer: 42 } });
    expect(sup.hasRunning('t')).toBe(false);
    expect(events()).toEqual([{ kind: 'completed', task_id: id, result: { answer: 42 } }]);
    expect(sup.stats().storeFailures).toBeGreaterThanOrEqual(1);
    expect((await store.record(id))?.status).toBe('running');
    store.failing = false;
    await until(async () => (await store.record(id))?.status === 'completed', 10_000, 'the retried write');
    expect(await store.record(id)).toMatchObject({ result: { answer: 42 } });
    const failures = sup.stats().storeFailures;
    await sup.stop();
    expect(sup.stats().storeFailures).toBe(failures);
  });

  it('§6.16 storeFailures counts each failed put attempt', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const id = await sup.spawn(opts(), parked);
    store.failing = true;
    const before = store.attempts;
    sup.cancel(id);
    await sup.wait(id);
    await until(() => store.attempts >= before + 2, 10_000, 'a retry');
    expect(sup.stats().storeFailures).toBe(store.attempts - before);
    store.failing = false;
    await until(async () => (await store.record(id))?.status === 'cancelled');
    await sup.stop();
  });

  it('§6.16 stop() with a store still failing rejects after stopTimeoutMs naming the unwritten record', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store, stopTimeoutMs: 100 });
    const id = await sup.spawn(opts(), parked);
    store.failing = true;
    const e = await sup.stop().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StoreError);
    expect(e).toMatchObject({ name: 'StoreError', code: 'store_unwritten', taskIds: [id] });
    expect((e as Error).message).toContain(id);
    expect(sup.get(id)?.status).toBe('cancelled');
    expect(sup.stats().storeFailures).toBeGreaterThanOrEqual(2);
    expect(sup.storeBacklog()).toEqual([
      { taskId: id, attempts: expect.any(Number), lastError: 'disk on fire' },
    ]);
    expect((await store.record(id))?.status).toBe('running');
    // Another stop() retries for another bound; the store is back, so it resolves with all written.
    store.failing = false;
    await sup.stop();
    expect((await store.record(id))?.status).toBe('cancelled');
    expect(sup.stats().storeBacklog).toBe(0);
  });

  it('§6.16 a sub-agent completion write failure is handled the same way', async () => {
    const store = new FlakyStore();
    const { sup, events } = setup({ store });
    const g = gate();
    const id = await sup.spawnAgent({ threadId: 't', description: 'a' }, () => g.promise.then(() => 'ok'));
    store.failing = true;
    g.open();
    expect((await sup.wait(id)).status).toBe('completed');
    expect(events().map((e) => e.kind)).toEqual(['completed']);
    expect(sup.stats().storeFailures).toBeGreaterThanOrEqual(1);
    store.failing = false;
    await until(async () => (await store.record(id))?.status === 'completed');
    await sup.stop();
  });

  it('a write rejecting with a non-Error value still counts and does not crash', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const id = await sup.spawn(opts(), parked);
    store.error = undefined as unknown as Error;
    store.failing = true;
    sup.cancel(id);
    expect((await sup.wait(id)).status).toBe('cancelled');
    expect(sup.stats().storeFailures).toBeGreaterThanOrEqual(1);
    expect(sup.storeBacklog()[0]?.lastError).toBe('store put failed');
    store.failing = false;
    await sup.stop();
  });

  it('stats: live, retained, spawned, eventsDelivered, eventsUndelivered', async () => {
    const closed = createInbox<Json>();
    closed.receiver.close();
    const { sup } = setup();
    expect(sup.stats()).toEqual({
      live: 0,
      retained: 0,
      spawned: 0,
      eventsDelivered: 0,
      eventsUndelivered: 0,
      eventsDropped: 0,
      storeFailures: 0,
      storeBacklog: 0,
      storeRefused: 0,
    });
    const a = await sup.spawn(opts(), (ctx) => {
      ctx.emit('x');
    });
    const b = await sup.spawn({ ...opts(), inbox: closed.sender }, (ctx) => {
      ctx.emit('y');
    });
    await sup.spawn(opts(), parked);
    await expect(sup.spawn(opts({ name: 'self' }), parked)).rejects.toThrow();
    await Promise.all([sup.wait(a), sup.wait(b)]);
    expect(sup.stats()).toEqual({
      live: 1,
      retained: 2,
      spawned: 3,
      eventsDelivered: 2,
      eventsUndelivered: 2,
      eventsDropped: 0,
      storeFailures: 0,
      storeBacklog: 0,
      storeRefused: 0,
    });
    await sup.stop();
    expect(sup.stats()).toMatchObject({ live: 0, retained: 3, eventsDelivered: 3 });
  });

  it('no store write reorders: the last record of a task wins even under group commit', async () => {
    const store = new FlakyStore();
    const sup = createTaskSupervisor({ store });
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => sup.spawn(opts(), () => i)));
    await Promise.all(ids.map((id) => sup.wait(id)));
    await sup.stop();
    const records = await store.load();
    expect(records).toHaveLength(50);
    expect(records.every((r) => r.status === 'completed')).toBe(true);
  });
});
