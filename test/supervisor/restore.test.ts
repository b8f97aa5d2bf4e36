import { describe, expect, it } from 'vitest';
import { createTaskSupervisor, ORPHAN_ERROR } from '../../src/index.js';
import type { PersistedTaskMeta } from '../../src/index.js';
import { FlakyStore, opts, parked, setup, until } from '../helpers/async.js';
import { legacyRecord } from '../helpers/records.js';

const rec = (id: string, extra: Partial<PersistedTaskMeta> = {}): PersistedTaskMeta => ({
  task_id: id,
  owner_thread_id: 't',
  task_type: 'shell',
  description: 'restored',
  status: 'completed',
  created_at_ms: 100,
  completed_at_ms: 200,
  parent_context: {},
  ...extra,
});

describe('I. restore, orphans, id counter', () => {
  it('I15 held ids are skipped; new records are added', async () => {
    const { sup } = setup();
    const live = await sup.spawn({ ...opts({ description: 'live task' }), threadId: 'thread-1' }, parked);
    const n = await sup.restoreForThread('thread-1', [
      rec(live, { description: 'stale restore' }),
      rec('bg_999', { status: 'failed', error: 'err', owner_thread_id: 'thread-1' }),
    ]);
    expect(n).toBe(1);
    expect(sup.get(live)).toMatchObject({ status: 'running', description: 'live task' });
    expect(sup.get('bg_999')).toMatchObject({ status: 'failed', error: 'err' });
    await sup.stop();
  });

  it('I16 restoring bg_5 and bg_10 makes the next id bg_11', async () => {
    const { sup } = setup();
    expect(await sup.restoreForThread('t', [rec('bg_5'), rec('bg_10')])).toBe(2);
    expect(await sup.spawn(opts(), parked)).toBe('bg_11');
    expect(sup.list('t')).toHaveLength(3);
    await sup.stop();
  });

  it('I17 / §6.17 an orphaned running record becomes failed at restore time', async () => {
    const { sup, clock } = setup();
    clock.set(9_999);
    await sup.restoreForThread('t', [
      rec('bg_orphan', { status: 'running', completed_at_ms: undefined, result: { partial: 1 } } as never),
    ]);
    const s = sup.get('bg_orphan');
    expect(s).toMatchObject({ status: 'failed', error: ORPHAN_ERROR, completed_at_ms: 9_999 });
    expect(ORPHAN_ERROR).toBe('task orphaned: runtime restarted while running');
    expect(s).not.toHaveProperty('result');
    expect(sup.hasRunning('t')).toBe(false);
    await sup.stop();
  });

  it('I18 terminal statuses are preserved', async () => {
    const { sup } = setup();
    await sup.restoreForThread('t', [
      rec('bg_done', { result: { ok: true } }),
      rec('bg_failed', { status: 'failed', error: 'timeout' }),
    ]);
    expect(sup.get('bg_done')).toMatchObject({ status: 'completed', result: { ok: true } });
    expect(sup.get('bg_done')).not.toHaveProperty('error');
    expect(sup.get('bg_failed')).toMatchObject({ status: 'failed', error: 'timeout' });
    await sup.stop();
  });

  it('I19 a live running task is never degraded by a stale running record', async () => {
    const { sup } = setup();
    const id = await sup.spawn(opts(), parked);
    expect(await sup.restoreForThread('t', [rec(id, { status: 'running', description: 'stale' })])).toBe(0);
    expect(sup.get(id)?.status).toBe('running');
    expect(sup.get(id)).not.toHaveProperty('error');
    await sup.stop();
  });

  it('I22 / §6.17 owner_thread_id is rewritten to the restoring thread, in memory and in the store', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    await sup.restoreForThread('mine', [
      rec('bg_3', { owner_thread_id: 'someone-else' }),
      rec('bg_4', { owner_thread_id: '' }),
    ]);
    expect(sup.list('mine').map((s) => s.task_id)).toEqual(['bg_3', 'bg_4']);
    expect(sup.list('someone-else')).toEqual([]);
    expect(sup.persistedSnapshot().bg_3?.owner_thread_id).toBe('mine');
    expect((await store.record('bg_3'))?.owner_thread_id).toBe('mine');
    await sup.stop();
  });

  it('§6.17 bg_007 bumps the counter to 8; bg_x and unsafe integers do not bump', async () => {
    const { sup } = setup();
    await sup.restoreForThread('t', [
      rec('bg_x'),
      rec('bg_18446744073709551615'),
      rec('custom-id'),
      rec('bg_007'),
    ]);
    expect(await sup.spawn(opts(), parked)).toBe('bg_8');
    await sup.stop();
  });

  it('§6.17 bg_x alone does not move the counter', async () => {
    const { sup } = setup();
    await sup.restoreForThread('t', [rec('bg_x'), rec('bg_-3'), rec('bg_1.5')]);
    expect(await sup.spawn(opts(), parked)).toBe('bg_0');
    await sup.stop();
  });

  it('restore accepts a record keyed by task id, counts only what it added, and is idempotent', async () => {
    const { sup } = setup();
    const metas = { bg_1: rec('bg_1'), bg_2: rec('bg_2', { status: 'cancelled', completed_at_ms: 300 }) };
    expect(await sup.restoreForThread('t', metas)).toBe(2);
    expect(await sup.restoreForThread('t', metas)).toBe(0);
    expect(sup.get('bg_2')?.status).toBe('cancelled');
    expect(sup.stats()).toMatchObject({ live: 0, retained: 2, spawned: 0 });
    await sup.stop();
  });

  it('§6.28 restored records are listed in creation order', async () => {
    const { sup } = setup();
    await sup.restoreForThread('t', [
      rec('bg_3', { created_at_ms: 300 }),
      rec('bg_1', { created_at_ms: 100 }),
      rec('bg_2', { created_at_ms: 200 }),
    ]);
    expect(sup.list('t').map((s) => s.task_id)).toEqual(['bg_1', 'bg_2', 'bg_3']);
    await sup.stop();
  });

  it('legacy records without owner_thread_id or parent_context are accepted', async () => {
    const { sup } = setup();
    const legacy = legacyRecord();
    expect(await sup.restoreForThread('t', [legacy as unknown as PersistedTaskMeta])).toBe(1);
    expect(sup.get('bg_old')).toEqual({ ...legacy });
    await sup.stop();
  });

  it('malformed records: TypeError naming the field, nothing restored', async () => {
    const { sup } = setup();
    const bad = { ...rec('bg_2'), task_type: 7 };
    const p = Promise.resolve().then(() =>
      sup.restoreForThread('t', [rec('bg_1'), bad as unknown as PersistedTaskMeta]),
    );
    await expect(p).rejects.toThrow(TypeError);
    await expect(p).rejects.toThrow(/task_type/);
    expect(sup.list('t')).toEqual([]);
    expect(sup.get('bg_1')).toBeUndefined();
    const bad2 = { ...rec('bg_3'), status: 'paused' };
    await expect(Promise.resolve().then(() => sup.restoreForThread('t', [bad2 as never]))).rejects.toThrow(
      /status/,
    );
    await expect(Promise.resolve().then(() => sup.restoreForThread('t', null as never))).rejects.toThrow(
      TypeError,
    );
    await expect(sup.restoreForThread(5 as never, [])).rejects.toThrow(TypeError);
    expect(await sup.spawn(opts(), parked)).toBe('bg_0');
    await sup.stop();
  });

  it('pinned: restoreForThread with a malformed record returns a rejected promise (does not throw)', async () => {
    const { sup } = setup();
    let returned: Promise<number> | undefined;
    expect(() => {
      returned = sup.restoreForThread('t', [{ task_id: 'bg_1' } as never]);
    }).not.toThrow();
    await expect(returned).rejects.toThrow(TypeError);
    await sup.stop();
  });

  it('pinned: a restore whose store write fails still updates memory, resolves, and retries', async () => {
    const store = new FlakyStore();
    store.failing = true;
    const { sup } = setup({ store });
    expect(await sup.restoreForThread('t', [rec('bg_1', { status: 'running' })])).toBe(1);
    expect(sup.get('bg_1')?.status).toBe('failed');
    expect(sup.stats().storeFailures).toBeGreaterThanOrEqual(1);
    store.failing = false;
    await until(async () => (await store.record('bg_1'))?.status === 'failed');
    await sup.stop();
  });
});

describe('§6.18 loadThread', () => {
  it('loadThread restores the thread from the store and orphans running records', async () => {
    const store = new FlakyStore();
    await store.put([
      rec('bg_4', { owner_thread_id: 'thread-1', status: 'running', completed_at_ms: undefined } as never),
      rec('bg_5', { owner_thread_id: 'thread-1' }),
      rec('bg_6', { owner_thread_id: 'thread-2', status: 'running' }),
    ]);
    const { sup, clock } = setup({ store });
    clock.set(7_000);
    expect(await sup.loadThread('thread-1')).toBe(2);
    expect(sup.get('bg_4')).toMatchObject({ status: 'failed', error: ORPHAN_ERROR, completed_at_ms: 7_000 });
    expect(sup.hasRunning('thread-1')).toBe(false);
    expect(sup.get('bg_6')).toBeUndefined();
    await until(async () => (await store.record('bg_4'))?.status === 'failed');
    expect(await sup.spawn({ ...opts(), threadId: 'thread-1' }, parked)).toBe('bg_7');
    await sup.stop();
  });

  it('loadThread after a restart: a new supervisor on the same store finds the orphans', async () => {
    const store = new FlakyStore();
    const first = createTaskSupervisor({ store });
    const id = await first.spawn(opts(), parked);
    // The first process "dies": its running record stays in the store.
    const second = createTaskSupervisor({ store, now: () => 42 });
    expect(await second.loadThread('t')).toBe(1);
    expect(second.get(id)).toMatchObject({ status: 'failed', error: ORPHAN_ERROR, completed_at_ms: 42 });
    expect(await second.loadThread('t')).toBe(0);
    await Promise.all([first.stop(), second.stop()]);
  });

  it('§6.17 a task orphaned while waiting for input keeps neither its phase nor its request, in memory and in the store', async () => {
    const store = new FlakyStore();
    const first = createTaskSupervisor({ store });
    const id = await first.spawn(opts(), (ctx) => ctx.requestInput({ question: 'deploy?' }));
    await until(async () => (await store.load('t')).some((m) => m.input_request !== undefined));
    // The first process "dies" while its task waits: the record in the store says so.
    expect((await store.load('t')).find((m) => m.task_id === id)).toMatchObject({
      input_request: { question: 'deploy?' },
    });
    const second = createTaskSupervisor({ store, now: () => 42 });
    expect(await second.loadThread('t')).toBe(1);
    const summary = second.get(id);
    expect(summary).toMatchObject({ status: 'failed', error: ORPHAN_ERROR, stop_reason: 'orphaned' });
    expect(summary).not.toHaveProperty('phase');
    expect(summary).not.toHaveProperty('input_request');
    await until(async () => (await store.load('t')).find((m) => m.task_id === id)?.status === 'failed');
    const stored = (await store.load('t')).find((m) => m.task_id === id);
    expect(stored).not.toHaveProperty('phase');
    expect(stored).not.toHaveProperty('input_request');
    first.cancel(id);
    await Promise.all([first.stop(), second.stop()]);
  });

  it('loadThread skips the ids this supervisor holds', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const id = await sup.spawn(opts(), parked);
    expect(await sup.loadThread('t')).toBe(0);
    expect(sup.get(id)?.status).toBe('running');
    await sup.stop();
  });
});
