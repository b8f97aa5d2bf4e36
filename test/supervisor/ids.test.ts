import { describe, expect, it } from 'vitest';
import { MemoryTaskStore } from '../../src/stores/memory.js';
import { IdAllocator } from '../../src/supervisor/ids.js';

/** A memory store whose `allocateIds` calls are recorded and can be made to fail. */
function countingStore() {
  const store = new MemoryTaskStore();
  const base = store.allocateIds.bind(store);
  const calls: number[] = [];
  let failNext = false;
  store.allocateIds = async (count: number) => {
    calls.push(count);
    if (failNext) {
      failNext = false;
      throw new Error('database down');
    }
    return base(count);
  };
  return { store, calls, failNext: () => (failNext = true) };
}

const idNum = (id: string | undefined) => Number(id!.slice(3));

/** Takes `n` ids, fetching a block (awaited) only when none is available, as spawn does. */
async function takeMany(ids: IdAllocator, n: number): Promise<{ taken: string[]; waits: number }> {
  const taken: string[] = [];
  let waits = 0;
  while (taken.length < n) {
    if (!ids.available()) {
      waits++;
      await ids.ensure();
      continue;
    }
    taken.push(ids.tryTake()!);
  }
  return { taken, waits };
}

describe('IdAllocator', () => {
  it('fetches the next block ahead, so waves of spawns wait for the store only at the start', async () => {
    const { store, calls } = countingStore();
    const ids = new IdAllocator(store);
    const first = await takeMany(ids, 64);
    expect(first.waits).toBe(1);
    // Half of the first block used: the next one was requested without anyone waiting.
    expect(calls).toEqual([64, 128]);
    const all = first.taken.map(idNum);
    let waits = 0;
    for (let wave = 0; wave < 30; wave++) {
      // Between waves the event loop turns (a spawn's write, a body): the fetch ahead lands.
      await new Promise((r) => setImmediate(r));
      const w = await takeMany(ids, 100);
      waits += w.waits;
      all.push(...w.taken.map(idNum));
    }
    expect(waits).toBe(0);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual([...all].sort((a, b) => a - b));
  });

  it('a failed fetch ahead costs nothing: the spawn that finds the block empty fetches again', async () => {
    const { store, calls, failNext } = countingStore();
    const ids = new IdAllocator(store);
    await ids.ensure();
    failNext();
    // Crossing the half-way mark starts the fetch ahead, which fails in the background.
    for (let i = 0; i < 40; i++) ids.tryTake();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([64, 128]);
    const { taken, waits } = await takeMany(ids, 100);
    // The next take below half retried the fetch in the background; the spawn that found the
    // block empty waited for that one.
    expect(calls).toEqual([64, 128, 256]);
    expect(waits).toBe(1);
    expect(taken.map(idNum)).toEqual(Array.from({ length: 100 }, (_, i) => i + 40));
  });

  it('a restore that moves the counter into or past the block fetched ahead never goes backwards', async () => {
    const { store } = countingStore();
    const ids = new IdAllocator(store);
    await ids.ensure();
    for (let i = 0; i < 40; i++) ids.tryTake();
    await new Promise((r) => setImmediate(r));
    // The block fetched ahead is bg_64..bg_191; a restored bg_100 moves into it.
    ids.bumpPast('bg_100');
    expect(ids.tryTake()).toBe('bg_101');
    // A restored id past it: the rest of that block is dropped, the next fetch goes on from there.
    ids.bumpPast('bg_200');
    expect(ids.available()).toBe(false);
    await ids.ensure();
    expect(ids.tryTake()).toBe('bg_201');
  });
});
