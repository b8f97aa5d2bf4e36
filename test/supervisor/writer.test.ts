import { describe, expect, it, vi } from 'vitest';
import { createTaskSupervisor, MemoryTaskStore, StoreError } from '../../src/index.js';
import type { PersistedTaskMeta, PutResult, TaskEvent } from '../../src/index.js';
import { FaultyTaskStore } from '../../src/testing/index.js';
import { StoreWriter } from '../../src/supervisor/writer.js';
import { gate, opts, parked, setup, until } from '../helpers/async.js';

const meta = (id: string, extra: Partial<PersistedTaskMeta> = {}): PersistedTaskMeta => ({
  task_id: id,
  owner_thread_id: 't',
  task_type: 'test',
  description: 'd',
  status: 'running',
  created_at_ms: 1,
  parent_context: {},
  ...extra,
});

describe('StoreWriter', () => {
  it('I20 a spawn’s write does not wait for, nor share a put with, a record in backoff', async () => {
    let rejectA = true;
    const store = new FaultyTaskStore({
      rejects: (r) => (rejectA && r.task_id === 'bg_0' && r.status !== 'running' ? 'not now' : undefined),
    });
    const { sup } = setup({ store });
    const g = gate();
    const a = await sup.spawn(opts(), () => g.promise);
    expect(a).toBe('bg_0');
    g.open();
    await sup.wait(a);
    expect(sup.storeBacklog().map((x) => x.taskId)).toEqual([a]);
    const b = await sup.spawn(opts(), parked);
    const stored = await store.inner.load();
    expect(stored.find((r) => r.task_id === b)?.status).toBe('running');
    expect(stored.find((r) => r.task_id === a)?.status).toBe('running');
    expect(sup.storeBacklog().map((x) => x.taskId)).toEqual([a]);
    rejectA = false;
    await sup.stop();
    expect((await store.inner.load()).find((r) => r.task_id === a)?.status).toBe('completed');
  });

  it('a failing batch is split: a record the store always rejects is isolated, healthy spawns in its batch land', async () => {
    const store = new FaultyTaskStore({
      rejects: (r) => (r.status !== 'running' && r.result === 'poison' ? 'poisoned' : undefined),
    });
    const { sup } = setup({ store, stopTimeoutMs: 50 });
    const g = gate();
    const poisoned = await sup.spawn(opts(), () => g.promise.then(() => 'poison'));
    // The poisoned terminal write and ten spawns' writes are queued in the same tick: one group commit.
    g.open();
    await Promise.resolve();
    const spawns = Array.from({ length: 10 }, () => sup.spawn(opts(), () => 'fine'));
    const ids = await Promise.all(spawns);
    await Promise.all(ids.map((id) => sup.wait(id)));
    await sup.wait(poisoned);
    await until(async () => {
      const stored = await store.inner.load();
      return ids.every((id) => stored.find((r) => r.task_id === id)?.status === 'completed');
    });
    expect(sup.get(poisoned)).toMatchObject({ status: 'completed', result: 'poison' });
    expect(sup.stats().storeBacklog).toBe(1);
    const [entry] = sup.storeBacklog();
    expect(entry).toMatchObject({ taskId: poisoned, lastError: `record '${poisoned}' rejected: poisoned` });
    expect(entry!.attempts).toBeGreaterThanOrEqual(1);
    await expect(sup.stop()).rejects.toMatchObject({ code: 'store_unwritten', taskIds: [poisoned] });
  });

  it('a spawn whose own record is rejected fails store_failed; others in its batch do not', async () => {
    const store = new FaultyTaskStore({ rejects: (r) => (r.description === 'bad' ? 'no' : undefined) });
    const { sup } = setup({ store });
    const results = await Promise.allSettled([
      sup.spawn(opts(), parked),
      sup.spawn({ ...opts(), description: 'bad' }, parked),
      sup.spawn(opts(), parked),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'store_failed' });
    expect(sup.stats()).toMatchObject({ live: 2, storeBacklog: 0 });
    await sup.stop();
  });

  it('one put in flight; a later version never lands before an earlier one, even across a failure and a split', async () => {
    const landed: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let fail = 0;
    const holds: (() => void)[] = [];
    const store = {
      async put(records: readonly PersistedTaskMeta[]) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((r) => holds.push(r));
        inFlight--;
        if (fail > 0) {
          fail--;
          throw new Error('transient');
        }
        for (const r of records) landed.push(`${r.task_id}:${r.description}`);
      },
      async load() {
        return [];
      },
    };
    const writer = new StoreWriter(store);
    const release = async () => {
      await until(() => holds.length > 0);
      holds.shift()!();
    };
    writer.write(meta('a', { description: '1' }), true);
    writer.write(meta('b', { description: '1' }), true);
    await until(() => holds.length === 1);
    // While v1 of a and b is in flight (and about to fail), v2 of a is written.
    writer.write(meta('a', { description: '2' }), true);
    fail = 1;
    await release(); // [a1, b1] fails: split into [a1] and [b1]; a1 is superseded by a2
    for (let i = 0; i < 3 && (landed.length < 2 || holds.length > 0); i++) await release();
    await until(() => landed.length >= 2);
    expect(maxInFlight).toBe(1);
    expect(landed).not.toContain('a:1');
    expect(landed.sort()).toEqual(['a:2', 'b:1']);
  });

  it('a refused version superseded while in flight does not move memory back: the newer version gets its own verdict', async () => {
    const holds: (() => void)[] = [];
    const puts: string[][] = [];
    const store = {
      async put(records: readonly PersistedTaskMeta[]): Promise<PutResult | undefined> {
        puts.push(records.map((r) => `${r.task_id}:${r.status}`));
        await new Promise<void>((r) => holds.push(r));
        // The first put (v1, running) is refused: the store holds an older running record. The
        // second (v2, completed) lands.
        return puts.length === 1 ? { refused: [meta('a', { description: 'as stored' })] } : undefined;
      },
      async load() {
        return [];
      },
    };
    const refusals: string[][] = [];
    const writer = new StoreWriter(store, { onRefused: (rs) => refusals.push(rs.map((r) => r.description)) });
    const v1 = writer.writeDurable(meta('a', { description: 'v1' }), false);
    await until(() => holds.length === 1);
    // While v1 is in flight, the task ends: v2 supersedes it.
    const v2 = writer.writeDurable(meta('a', { description: 'v2', status: 'completed' }), true);
    holds.shift()!();
    await until(() => holds.length === 1);
    // v1's refusal reached nobody: memory (past it) is not told to go back to the stored record.
    expect(refusals).toEqual([]);
    holds.shift()!();
    // v1's waiter follows v2, which landed.
    await expect(v1).resolves.toBeUndefined();
    await expect(v2).resolves.toBeUndefined();
    expect(puts).toEqual([['a:running'], ['a:completed']]);
    expect(refusals).toEqual([]);
  });

  it('a fencing store’s refusal is not retried: memory, waiters and the event follow the store', async () => {
    const inner = new MemoryTaskStore();
    let fence = false;
    const store = {
      put: async (records: readonly PersistedTaskMeta[]): Promise<PutResult | undefined> => {
        if (!fence) return inner.put(records).then(() => undefined);
        // Another writer already failed the task: the store keeps its record and says so.
        const current = records.map((r) => ({ ...r, status: 'failed' as const, error: 'taken over' }));
        delete (current[0] as { result?: unknown }).result;
        await inner.put(current);
        return { refused: current };
      },
      load: (t?: string) => inner.load(t),
    };
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const { sup, events } = setup({ store });
    const seen: TaskEvent[] = [];
    sup.onEvent((e) => seen.push(e));
    const g = gate();
    const id = await sup.spawn(opts(), () => g.promise.then(() => 'mine'));
    const waiting = sup.wait(id);
    fence = true;
    g.open();
    expect(await waiting).toMatchObject({ status: 'failed', error: 'taken over' });
    expect(sup.get(id)).toMatchObject({ status: 'failed', error: 'taken over' });
    expect(sup.get(id)).not.toHaveProperty('result');
    expect(events()).toEqual([{ kind: 'failed', task_id: id, error: 'taken over' }]);
    expect(seen).toEqual([{ kind: 'failed', task_id: id, error: 'taken over' }]);
    expect(sup.stats()).toMatchObject({ storeRefused: 1, storeBacklog: 0, storeFailures: 0 });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(id));
    warn.mockRestore();
    await sup.stop();
  });

  it('stop() keeps retrying within stopTimeoutMs and resolves once the store recovers', async () => {
    const store = new FaultyTaskStore();
    const { sup } = setup({ store, stopTimeoutMs: 20_000 });
    const ids = [await sup.spawn(opts(), parked), await sup.spawn(opts(), parked)];
    store.down = true;
    const stopping = sup.stop();
    await until(() => store.failures >= 3, 10_000, 'retries during stop');
    store.down = false;
    await stopping;
    const stored = await store.inner.load();
    expect(ids.map((id) => stored.find((r) => r.task_id === id)?.status)).toEqual(['cancelled', 'cancelled']);
    expect(sup.storeBacklog()).toEqual([]);
  });

  it('stop() never resolves while a terminal record is unwritten: it rejects with StoreError', async () => {
    const store = new FaultyTaskStore();
    const { sup } = setup({ store, stopTimeoutMs: 0 });
    const id = await sup.spawn(opts(), parked);
    store.down = true;
    const e = await sup.stop().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StoreError);
    expect(e).toMatchObject({ code: 'store_unwritten', taskIds: [id], name: 'StoreError' });
    expect((e as StoreError).cause).toMatchObject({ message: 'store is down (injected outage)' });
  });

  it('bad stopTimeoutMs is a TypeError', () => {
    for (const bad of [-1, Number.NaN, '5', Number.POSITIVE_INFINITY])
      expect(() => createTaskSupervisor({ stopTimeoutMs: bad as number })).toThrow(
        /Expected `stopTimeoutMs` to be a non-negative number of milliseconds, got/,
      );
  });
});

describe('stop() with a store whose put never settles', () => {
  it('rejects after cancelGraceMs + stopTimeoutMs (+ stopTimeoutMs of retries) naming the held record', async () => {
    const inner = new MemoryTaskStore();
    let hang = false;
    const store = {
      put: (records: readonly PersistedTaskMeta[]) =>
        hang ? new Promise<void>(() => {}) : inner.put(records),
      load: (t?: string) => inner.load(t),
    };
    const { sup } = setup({ store, cancelGraceMs: 10, stopTimeoutMs: 50 });
    const id = await sup.spawn(opts(), parked);
    hang = true;
    await expect(sup.stop()).rejects.toMatchObject({ code: 'store_unwritten', taskIds: [id] });
    expect(sup.get(id)?.status).toBe('cancelled');
  });
});
