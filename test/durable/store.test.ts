import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryDurableStore, MemoryTaskStore } from '../../src/index.js';
import type { DurableRow, DurableTaskStore } from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { durableConformance } from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-durable-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A memory store whose durable rows break one rule, to prove the checks can fail. */
function broken(patch: (d: DurableTaskStore) => Partial<DurableTaskStore>): () => MemoryTaskStore {
  return () => {
    const store = new MemoryTaskStore();
    const d = new MemoryDurableStore();
    Object.defineProperty(store, 'durable', { value: Object.assign(d, patch(d)) });
    return store;
  };
}

/** A row of task `id` (type `x`, thread `t`) waiting for its first attempt; `extra` overrides. */
const waitingRow = (id: string, extra: Partial<DurableRow> = {}): DurableRow => ({
  task_id: id,
  thread_id: 't',
  task_type: 'x',
  record: {
    task_id: id,
    owner_thread_id: 't',
    task_type: 'x',
    description: '',
    status: 'running',
    created_at_ms: 1,
    parent_context: {},
  },
  input: null,
  state: 'waiting',
  attempt: 0,
  max_attempts: 2,
  next_run_at_ms: 0,
  attempt_errors: [],
  ...extra,
});

describe('durable rows: the store contract', () => {
  it('MemoryTaskStore and SqliteTaskStore (file and :memory:) pass the durable checks', async () => {
    await durableConformance(() => new MemoryTaskStore(), 'mem');
    await durableConformance(() => new SqliteTaskStore(join(dir, `s-${n++}.db`)), 'file');
    await durableConformance(() => new SqliteTaskStore(':memory:'), 'mem-sqlite');
  });

  it('a store whose steps ignore the fence fails', async () => {
    const make = broken((d) => {
      const real = d.setStep.bind(d);
      return {
        setStep: async (id, _attempt, _owner, name, value, overwrite) => {
          const row = await d.get(id);
          return row === undefined
            ? undefined
            : real(id, row.attempt, row.owner ?? '', name, value, overwrite);
        },
      };
    });
    await expect(durableConformance(make, 'x')).rejects.toThrow(/fenced by \(attempt, owner\)/);
  });

  it('a store that claims without its condition fails', async () => {
    const make = broken((d) => {
      const claim = d.claim.bind(d);
      return { claim: (id, after, owner) => claim(id, after, owner, Number.MAX_SAFE_INTEGER) };
    });
    await expect(durableConformance(make, 'y')).rejects.toThrow(/one conditional update/);
  });

  it('a store that ignores the idempotency key fails', async () => {
    const make = broken((d) => {
      const create = d.create.bind(d);
      return { create: (row) => create({ ...row, idempotency_key: undefined } as never) };
    });
    await expect(durableConformance(make, 'z')).rejects.toThrow(
      /durable check "(a row round-trips|an idempotency key)/,
    );
  });

  it('a store whose checkpoints are fenced by the row state alone fails (a stale attempt overwrites)', async () => {
    const make = broken((d) => {
      const real = d.setStep.bind(d);
      return {
        setStep: async (id, attempt, owner, name, value, overwrite) => {
          const row = await d.get(id);
          if (!overwrite || row?.state !== 'running') return real(id, attempt, owner, name, value, overwrite);
          return real(id, row.attempt, row.owner ?? '', name, value, overwrite);
        },
      };
    });
    await expect(durableConformance(make, 'w')).rejects.toThrow(/the stale attempt wrote/);
  });

  it('a store whose step is checked then written in two steps fails (racing writes keep two values)', async () => {
    const make = broken((d) => {
      const real = d.setStep.bind(d);
      return {
        setStep: async (id, attempt, owner, name, value, overwrite) => {
          const known = Object.hasOwn(await d.steps(id), name);
          await new Promise<void>((r) => setImmediate(r));
          return real(id, attempt, owner, name, value, overwrite || !known);
        },
      };
    });
    await expect(durableConformance(make, 'v')).rejects.toThrow(/returned different values/);
  });

  it('SQLite group commit: a write that fails in a group fails alone; the others land', async () => {
    const store = new SqliteTaskStore(':memory:');
    const results = await Promise.allSettled([
      store.durable.create(waitingRow('a')),
      store.durable.create(waitingRow('a')), // the same task id twice: the second insert fails
      store.durable.create(waitingRow('b')),
      store.durable.claim('b', 0, 'me', 1),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[3] as PromiseFulfilledResult<unknown>).value).toMatchObject({ attempt: 1, owner: 'me' });
    expect((await store.durable.pending('x')).map((r) => r.task_id)).toEqual(['a', 'b']);
    await store.close();
  });

  it('SQLite release is one fenced update: a stale fence is refused and changes nothing; errors append exactly', async () => {
    const store = new SqliteTaskStore(':memory:');
    const d = store.durable;
    const row = waitingRow('r', { max_attempts: 5, next_run_at_ms: 7, attempt_errors: ['before'] });
    await d.create(row);
    // Not running yet: nothing holds the row.
    expect(await d.release('r', 0, 'a', 'x', 10)).toBe(false);
    expect(await d.claim('r', 0, 'a', 7)).toMatchObject({ attempt: 1, owner: 'a' });
    const stale = await Promise.all([
      d.release('r', 1, 'b', 'wrong owner', 10),
      d.release('r', 2, 'a', 'wrong attempt', 10),
      d.release('r', 0, 'a', 'earlier attempt', 10),
      d.release('missing', 1, 'a', 'no row', 10),
    ]);
    expect(stale).toEqual([false, false, false, false]);
    expect(await d.get('r')).toMatchObject({
      state: 'running',
      attempt: 1,
      owner: 'a',
      attempt_errors: ['before'],
    });
    const odd = 'quote " backslash \\ newline \n 𝄞 \u0001';
    // The holder's release and a stale one in the same group commit: only the holder's lands.
    expect(await Promise.all([d.release('r', 1, 'a', odd, 20), d.release('r', 1, 'a', 'twice', 30)])).toEqual(
      [true, false],
    );
    const waiting = await d.get('r');
    expect(waiting).toEqual({ ...row, attempt: 1, next_run_at_ms: 20, attempt_errors: ['before', odd] });
    await d.claim('r', 1, 'b', 20);
    expect(await d.release('r', 2, 'b', 'last', undefined)).toBe(true);
    // The last attempt: done, the next run time kept, the owner cleared.
    expect(await d.get('r')).toEqual({
      ...row,
      state: 'done',
      attempt: 2,
      next_run_at_ms: 20,
      attempt_errors: ['before', odd, 'last'],
    });
    expect(await d.release('r', 2, 'b', 'after done', 40)).toBe(false);
    await store.close();
  });

  it('a read-only SQLite store refuses durable writes', async () => {
    const file = join(dir, `ro-${n++}.db`);
    const owner = new SqliteTaskStore(file);
    await owner.put([]);
    const ro = new SqliteTaskStore(file, { readonly: true });
    await expect(ro.durable.pending('x')).rejects.toThrow(/read/);
    await ro.close();
    await owner.close();
  });
});
