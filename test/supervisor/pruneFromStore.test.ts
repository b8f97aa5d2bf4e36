import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTaskSupervisor, MemoryTaskStore } from '../../src/index.js';
import type { TaskStore } from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { FlakyStore, gate, opts, parked, setup, until } from '../helpers/async.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-prune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A FlakyStore whose `delete` fails while `deleteFailing` is set, counting attempts. */
class FlakyDeleteStore extends FlakyStore {
  deleteFailing = false;
  deletes = 0;
  override async delete(taskIds: readonly string[]): Promise<void> {
    this.deletes++;
    if (this.deleteFailing) throw new Error('delete refused');
    return super.delete(taskIds);
  }
}

const ids = async (store: TaskStore): Promise<string[]> => (await store.load()).map((r) => r.task_id);

describe('prune({ fromStore: true }) gives the store room back', () => {
  it('deletes exactly the pruned records from the store; running, recent and other threads stay', async () => {
    const store = new MemoryTaskStore();
    const { sup, clock } = setup({ store });
    const old = await sup.spawn(opts(), () => 1);
    const other = await sup.spawn({ ...opts(), threadId: 'u' }, () => 1);
    await Promise.all([sup.wait(old), sup.wait(other)]);
    clock.set(5_000);
    const recent = await sup.spawn(opts(), () => 2);
    await sup.wait(recent);
    const live = await sup.spawn(opts(), parked);
    clock.set(6_000);
    expect(sup.prune({ threadId: 't', olderThanMs: 2_000, fromStore: true })).toBe(1);
    await until(async () => !(await ids(store)).includes(old), 10_000, 'the pruned record deleted');
    expect(await ids(store)).toEqual([other, recent, live]);
    expect(sup.prune({ fromStore: true })).toBe(2);
    await sup.stop();
    // stop() waited for the deletes; the cancelled live task's record is what remains.
    expect(await ids(store)).toEqual([live]);
  });

  it('bad input throws a TypeError and forgets nothing', async () => {
    const store = new MemoryTaskStore();
    const { sup } = setup({ store });
    const id = await sup.spawn(opts(), () => 1);
    await sup.wait(id);
    expect(() => sup.prune({ fromStore: 'yes' as unknown as boolean })).toThrow(
      /Expected `opts.fromStore` to be a boolean, got string/,
    );
    const noDelete: TaskStore = { put: async () => {}, load: async () => [] };
    const bare = createTaskSupervisor({ store: noDelete });
    const other = await bare.spawn(opts(), () => 1);
    await bare.wait(other);
    expect(() => bare.prune({ fromStore: true })).toThrow(/implement `delete`/);
    expect(bare.get(other)).toBeDefined();
    expect(sup.get(id)).toBeDefined();
    expect(await ids(store)).toEqual([id]);
    await Promise.all([sup.stop(), bare.stop()]);
  });

  it('a terminal write queued for retry does not bring a pruned record back', async () => {
    const store = new FlakyDeleteStore();
    const { sup } = setup({ store });
    const body = gate<number>();
    const id = await sup.spawn(opts(), () => body.promise);
    store.failing = true;
    const attempts = store.attempts;
    body.open(7);
    await sup.wait(id);
    expect(store.attempts).toBeGreaterThan(attempts);
    expect((await store.record(id))?.status).toBe('running');
    expect(sup.prune({ fromStore: true })).toBe(1);
    await until(() => store.deletes === 1, 10_000, 'the delete');
    store.failing = false;
    await sup.stop(); // flushes every pending write
    expect(await store.record(id)).toBeUndefined();
  });

  it('a retried put in flight when prune runs lands before the delete, not after it', async () => {
    const store = new FlakyDeleteStore();
    const { sup } = setup({ store });
    const body = gate<number>();
    const id = await sup.spawn(opts(), () => body.promise);
    store.failing = true;
    body.open(1);
    await sup.wait(id); // delivered: its terminal write failed and waits for a retry
    const held = gate();
    const entered = gate();
    store.hold = () => {
      entered.open();
      return held.promise;
    };
    store.failing = false;
    await entered.promise; // the retry is in flight, holding the completed record
    store.hold = undefined;
    expect(sup.prune({ fromStore: true })).toBe(1);
    expect(store.deletes).toBe(0);
    held.open();
    await until(() => store.deletes === 1, 10_000, 'the delete after the put');
    expect((await store.load()).map((r) => r.task_id)).not.toContain(id);
    await sup.stop();
    expect(await store.record(id)).toBeUndefined();
  });

  it('a failed delete is counted in storeFailures, kept, and retried by the next prune', async () => {
    const store = new FlakyDeleteStore();
    const { sup } = setup({ store });
    const id = await sup.spawn(opts(), () => 1);
    await sup.wait(id);
    store.deleteFailing = true;
    expect(sup.prune({ fromStore: true })).toBe(1);
    await until(() => sup.stats().storeFailures === 1, 10_000, 'the failed delete counted');
    expect(await store.record(id)).toBeDefined();
    store.deleteFailing = false;
    expect(sup.prune({ fromStore: true })).toBe(0);
    await until(async () => (await store.record(id)) === undefined, 10_000, 'the retried delete');
    expect(store.deletes).toBe(2);
    await sup.stop();
  });

  it('I17: on SQLite, prune-then-restart does not resurrect pruned records', async () => {
    const path = join(dir, 'prune.db');
    const store = new SqliteTaskStore(path);
    const sup = createTaskSupervisor({ store });
    const done = await Promise.all(Array.from({ length: 5 }, () => sup.spawn(opts(), () => 1)));
    await Promise.all(done.map((id) => sup.wait(id)));
    const live = await sup.spawn(opts(), parked);
    expect(sup.prune({ fromStore: true })).toBe(5);
    await until(async () => (await store.load('t')).length === 1, 10_000, 'the deletes');
    sup.cancel(live);
    await sup.stop();
    await store.close();

    const reopened = new SqliteTaskStore(path);
    const next = createTaskSupervisor({ store: reopened });
    expect(await next.loadThread('t')).toBe(1);
    expect(next.list('t').map((s) => [s.task_id, s.status])).toEqual([[live, 'cancelled']]);
    await next.stop();
    await reopened.close();
  });
});
