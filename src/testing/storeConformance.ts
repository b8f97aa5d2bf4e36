import { randomUUID } from 'node:crypto';
import type { TaskStore } from '../stores/types.js';
import { taskIdNumber } from '../wire/convert.js';
import type { PersistedTaskMeta } from '../wire/types.js';
import { outboxConformance } from './outboxConformance.js';
import { durableConformance } from './durableConformance.js';
import { sameJson } from '../wire/sameJson.js';

/** Makes a fresh, empty store for each check. */
export type MakeStore = () => TaskStore | Promise<TaskStore>;
type Check = (store: TaskStore, tag: string) => Promise<void>;

class CheckFailed extends Error {}

function ensure(ok: boolean, detail: string): asserts ok {
  if (!ok) throw new CheckFailed(detail);
}

const show = (v: unknown): string => JSON.stringify(v);

function meta(tag: string, id: string, extra: Partial<PersistedTaskMeta> = {}): PersistedTaskMeta {
  return {
    task_id: id,
    owner_thread_id: `${tag}-thread-a`,
    task_type: 'shell',
    description: `task ${id}`,
    status: 'running',
    created_at_ms: 1000,
    parent_context: {},
    ...extra,
  };
}

async function byId(store: TaskStore, threadId?: string): Promise<Map<string, PersistedTaskMeta>> {
  const loaded = await store.load(threadId);
  ensure(Array.isArray(loaded), `load(${threadId ?? ''}) did not return an array`);
  return new Map(loaded.map((r) => [r.task_id, r]));
}

async function expectRejects(p: () => Promise<unknown>, what: string): Promise<unknown> {
  try {
    await p();
  } catch (e) {
    return e;
  }
  throw new CheckFailed(`${what} resolved; expected a rejection`);
}

// Every check gets a fresh store and its own ids and threads, so a store whose instances share one
// database (a PostgreSQL table) passes too: "load all" must hold our records, not only them.
const CHECKS: ReadonlyArray<readonly [string, Check]> = [
  [
    'records round-trip exactly',
    async (store, tag) => {
      const records = [
        meta(tag, `${tag}-min`),
        meta(tag, `${tag}-full`, {
          name: 'researcher',
          status: 'failed',
          error: 'timeout "quoted" \\ ✓',
          result: { nested: [1, 2.5, 'x', null, true, { deep: {} }], big: 9007199254740991, s: '𝄞' },
          completed_at_ms: 2000,
          parent_context: { task_id: 'bg_1', run_id: 'run-1', call_id: 'call-1', agent_id: 'agent-1' },
        }),
        meta(tag, `${tag}-partial`, { name: '', status: 'completed', parent_context: { run_id: 'run-2' } }),
      ];
      await store.put(records);
      const got = await byId(store);
      for (const r of records) {
        const g = got.get(r.task_id);
        ensure(g !== undefined, `${r.task_id} was not loaded`);
        ensure(sameJson(g, r), `${r.task_id} came back as ${show(g)}, expected ${show(r)}`);
      }
    },
  ],
  [
    'put upserts by task_id',
    async (store, tag) => {
      const id = `${tag}-up`;
      await store.put([meta(tag, id)]);
      const done = meta(tag, id, { status: 'completed', result: { ok: true }, completed_at_ms: 5 });
      await store.put([done]);
      const rows = (await store.load(done.owner_thread_id)).filter((r) => r.task_id === id);
      ensure(rows.length === 1, `${rows.length} records with id ${id}, expected 1`);
      ensure(sameJson(rows[0], done), `got ${show(rows[0])}, expected the second write`);
    },
  ],
  [
    'load(threadId) returns exactly that thread',
    async (store, tag) => {
      const a = [meta(tag, `${tag}-a1`), meta(tag, `${tag}-a2`)];
      const b = [meta(tag, `${tag}-b1`, { owner_thread_id: `${tag}-thread-b` })];
      await store.put([...a, ...b]);
      const gotA = await byId(store, `${tag}-thread-a`);
      ensure(
        sameJson([...gotA.keys()].sort(), a.map((r) => r.task_id).sort()),
        `thread a: ${show([...gotA.keys()])}`,
      );
      const gotB = await byId(store, `${tag}-thread-b`);
      ensure(sameJson([...gotB.keys()], [`${tag}-b1`]), `thread b: ${show([...gotB.keys()])}`);
      ensure((await store.load(`${tag}-nobody`)).length === 0, 'an unknown thread loaded records');
      const all = await byId(store);
      ensure(
        [...a, ...b].every((r) => all.has(r.task_id)),
        'load() misses records of some thread',
      );
    },
  ],
  [
    'put of an empty batch resolves',
    async (store) => {
      await store.put([]);
    },
  ],
  [
    'put is atomic',
    async (store, tag) => {
      const first = meta(tag, `${tag}-atom-1`);
      await store.put([first]);
      // A getter that throws: no store can serialize, clone or read this record.
      const poison = meta(tag, `${tag}-atom-3`);
      Object.defineProperty(poison, 'description', {
        enumerable: true,
        get: () => {
          throw new Error('unreadable record');
        },
      });
      const batch = [{ ...first, status: 'completed' as const }, meta(tag, `${tag}-atom-2`), poison];
      await expectRejects(() => store.put(batch), 'put of a batch holding an unreadable record');
      const got = await byId(store, first.owner_thread_id);
      ensure(!got.has(`${tag}-atom-2`), 'part of a rejected batch was stored');
      ensure(sameJson(got.get(first.task_id), first), 'a rejected batch overwrote an earlier record');
    },
  ],
  [
    'stored records are copies',
    async (store, tag) => {
      const r = meta(tag, `${tag}-copy`, { result: { list: [1] } });
      const expected = structuredClone(r);
      await store.put([r]);
      (r.result as { list: number[] }).list.push(2);
      r.description = 'changed after put';
      const loaded = (await store.load(r.owner_thread_id)).find((x) => x.task_id === r.task_id);
      ensure(sameJson(loaded, expected), `mutating the input changed the store: ${show(loaded)}`);
      loaded!.description = 'changed after load';
      const again = (await store.load(r.owner_thread_id)).find((x) => x.task_id === r.task_id);
      ensure(sameJson(again, expected), 'mutating a loaded record changed the store');
    },
  ],
  [
    'concurrent puts all land',
    async (store, tag) => {
      const records = Array.from({ length: 50 }, (_, i) => meta(tag, `${tag}-c${i}`, { created_at_ms: i }));
      await Promise.all(records.map((r) => store.put([r])));
      const got = await byId(store, `${tag}-thread-a`);
      for (const r of records) ensure(sameJson(got.get(r.task_id), r), `${r.task_id} lost or changed`);
    },
  ],
  [
    'allocateIds hands out unique increasing blocks',
    async (store) => {
      if (!store.allocateIds) return;
      const a = await store.allocateIds(10);
      const b = await store.allocateIds(5);
      ensure(Number.isSafeInteger(a) && a >= 0, `allocateIds(10) returned ${a}`);
      ensure(b >= a + 10, `second block starts at ${b}, inside the first [${a}, ${a + 10})`);
      const blocks = await Promise.all(Array.from({ length: 20 }, () => store.allocateIds!(3)));
      const taken = new Set<number>();
      for (const first of blocks) {
        ensure(first >= b + 5, `concurrent block ${first} overlaps an earlier one`);
        for (let i = first; i < first + 3; i++) {
          ensure(!taken.has(i), `id ${i} handed out twice by concurrent allocateIds`);
          taken.add(i);
        }
      }
    },
  ],
  [
    'allocateIds skips ids of stored bg_ records',
    async (store, tag) => {
      if (!store.allocateIds) return;
      const before = await store.allocateIds(1);
      const stored = before + 1000;
      await store.put([meta(tag, `bg_${stored}`)]);
      const next = await store.allocateIds(4);
      ensure(next > stored, `allocateIds returned ${next} after bg_${stored} was stored`);
      ensure(taskIdNumber(`bg_${next}`) === next, 'allocateIds returned a non-integer');
      await expectRejects(() => store.allocateIds!(0), 'allocateIds(0)');
    },
  ],
  [
    'delete removes exactly the given records and never frees their ids',
    async (store, tag) => {
      if (!store.delete) return;
      const base = store.allocateIds ? await store.allocateIds(1) : 0;
      const gone = meta(tag, `bg_${base + 500}`, { status: 'completed', completed_at_ms: 2 });
      const kept = [meta(tag, `${tag}-keep-1`), meta(tag, `${tag}-keep-2`, { status: 'failed', error: 'x' })];
      await store.put([gone, ...kept]);
      await store.delete([gone.task_id, `${tag}-never-stored`]);
      await store.delete([]);
      const got = await byId(store, gone.owner_thread_id);
      ensure(!got.has(gone.task_id), `${gone.task_id} still loads after delete`);
      for (const r of kept)
        ensure(sameJson(got.get(r.task_id), r), `${r.task_id} lost or changed by a delete`);
      ensure(!(await byId(store)).has(gone.task_id), `load() still returns ${gone.task_id}`);
      if (store.allocateIds) {
        const next = await store.allocateIds(1);
        ensure(next > base + 500, `allocateIds returned ${next}, the id of a deleted record is reused`);
      }
      await store.put([gone]);
      ensure((await byId(store, gone.owner_thread_id)).has(gone.task_id), 'a put after delete was lost');
    },
  ],
  [
    'close makes every method reject with a clear error',
    async (store, tag) => {
      if (!store.close) return;
      await store.close();
      const calls: Array<readonly [string, () => Promise<unknown>]> = [
        ['put', () => store.put([meta(tag, `${tag}-late`)])],
        ['load', () => store.load()],
      ];
      if (store.allocateIds) calls.push(['allocateIds', () => store.allocateIds!(1)]);
      if (store.delete) calls.push(['delete', () => store.delete!([`${tag}-late`])]);
      for (const [name, call] of calls) {
        const e = await expectRejects(call, `${name} after close`);
        ensure(e instanceof Error && /closed/.test(e.message), `${name} after close: ${String(e)}`);
      }
      await store.close();
    },
  ],
];

/**
 * The conformance suite for `TaskStore` implementations, framework-agnostic: it resolves when every
 * check passes and rejects on the first failure with an `Error` whose message names the check.
 * A store with a `messages` member (durable messaging) also gets the outbox checks: insertion order,
 * de-duplication by id, tail moves, dead letters, `replay`/`clear` on exactly the listed ids,
 * exclusive dispatch claims and the once-per-`message_id` mailbox. A store with `durable` rows
 * also gets the durable checks (`durableConformance`).
 * `makeStore` is called once per check; instances may share one backing database (the checks use
 * their own ids and threads), and each is closed at the end of its check when it has `close`.
 *
 * @example
 * import { storeConformance } from 'awaken-tasks/testing';
 * it('conforms', () => storeConformance(() => new MyStore()));
 */
export async function storeConformance(makeStore: MakeStore): Promise<void> {
  const run = randomUUID().slice(0, 8);
  for (const [i, [name, check]] of CHECKS.entries()) {
    const store = await makeStore();
    try {
      await check(store, `conf-${run}-${i}`);
    } catch (e) {
      const detail =
        e instanceof CheckFailed ? e.message : `threw ${e instanceof Error ? e.stack : String(e)}`;
      throw new Error(`storeConformance: check "${name}" failed: ${detail}`, { cause: e });
    } finally {
      await store.close?.();
    }
  }
  await outboxConformance(makeStore, run);
  await durableConformance(makeStore, run);
}
