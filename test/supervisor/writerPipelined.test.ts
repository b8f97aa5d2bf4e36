import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PersistedTaskMeta, PutResult } from '../../src/index.js';
import { StoreWriter } from '../../src/supervisor/writer.js';
import { tick, until } from '../helpers/async.js';
import { assertWithSeed, runsFor } from '../property/seed.js';

const meta = (id: string, version: number, extra: Partial<PersistedTaskMeta> = {}): PersistedTaskMeta => ({
  task_id: id,
  owner_thread_id: 't',
  task_type: 'test',
  description: String(version),
  status: 'running',
  created_at_ms: 1,
  parent_context: {},
  ...extra,
});

type Answer = 'ok' | 'fail' | { refuse: PersistedTaskMeta[] };

/** Records per put when puts are pipelined (the writer's chunk). */
const CHUNK = 256;

/** Writes `n` more records (ids `<prefix><i>`), e.g. to make the put they join a full chunk. */
function fill(writer: StoreWriter, prefix: string, n: number): void {
  for (let i = 0; i < n; i++) writer.write(meta(`${prefix}${i}`, 1), true);
}

/**
 * A store that applies puts in the order they were called, several in flight (as PostgreSQL's
 * pipelined write connection does): the test answers them, and a put's records land when it is
 * answered `ok`. Each record's landed versions are kept, to check none lands after a newer one.
 */
function pipelinedStore(depth: number) {
  const pending: { records: PersistedTaskMeta[]; answer: (a: Answer) => void }[] = [];
  const history = new Map<string, number[]>();
  let inFlight = 0;
  let maxInFlight = 0;
  let auto = false;
  const land = (records: readonly PersistedTaskMeta[]) => {
    for (const r of records) {
      const h = history.get(r.task_id) ?? [];
      h.push(Number(r.description));
      history.set(r.task_id, h);
    }
  };
  const store = {
    pipelinedPuts: depth,
    puts: [] as string[][],
    put(records: readonly PersistedTaskMeta[]): Promise<PutResult | undefined> {
      store.puts.push(records.map((r) => `${r.task_id}:${r.description}`));
      if (auto) {
        land(records);
        return Promise.resolve(undefined);
      }
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise((resolve, reject) => {
        pending.push({
          records: [...records],
          answer: (a) => {
            inFlight--;
            if (a === 'ok') {
              land(records);
              resolve(undefined);
            } else if (a === 'fail') {
              reject(new Error('connection lost'));
            } else {
              // The refused ones did not land; the rest did.
              const refused = new Set(a.refuse.map((r) => r.task_id));
              land(records.filter((r) => !refused.has(r.task_id)));
              resolve({ refused: a.refuse });
            }
          },
        });
      });
    },
    async load() {
      return [];
    },
  };
  return {
    store,
    pending,
    history,
    maxInFlight: () => maxInFlight,
    /** Answers the oldest put in flight (the store applies them in call order). */
    answer(a: Answer = 'ok') {
      const p = pending.shift();
      if (p === undefined) throw new Error('no put in flight');
      p.answer(a);
      return p.records;
    },
    /** From now on every put lands at once. */
    recover() {
      auto = true;
      while (pending.length > 0) this.answer('ok');
    },
  };
}

describe('StoreWriter with a store that pipelines puts', () => {
  it('keeps up to pipelinedPuts puts in flight, and sends a full chunk before its caller yields', async () => {
    const s = pipelinedStore(4);
    const writer = new StoreWriter(s.store);
    const done: string[] = [];
    for (let i = 0; i < 600; i++) writer.write(meta(`r${i}`, 1), false, () => done.push(`r${i}`));
    // The first 256 went out while the loop still ran; the next 256 too (room for 4).
    expect(s.store.puts.map((p) => p.length)).toEqual([256, 256]);
    await tick();
    expect(s.store.puts.map((p) => p.length)).toEqual([256, 256, 88]);
    expect(s.pending.length).toBe(3);
    s.answer();
    await until(() => done.length === 256);
    // Answers are decided in put order: the first put's records, then the rest.
    expect(done.slice(0, 256)).toEqual(Array.from({ length: 256 }, (_, i) => `r${i}`));
    s.answer();
    s.answer();
    await until(() => done.length === 600);
    expect(s.maxInFlight()).toBe(3);
  });

  it('never more than pipelinedPuts in flight: a further chunk waits for the oldest answer', async () => {
    const s = pipelinedStore(2);
    const writer = new StoreWriter(s.store);
    for (let i = 0; i < 1000; i++) writer.write(meta(`r${i}`, 1), false);
    await tick();
    expect(s.pending.length).toBe(2);
    s.answer();
    await until(() => s.store.puts.length === 3);
    expect(s.pending.length).toBe(2);
    s.recover();
    await until(async () => (await writer.flush(1000)).length === 0);
    expect(s.maxInFlight()).toBe(2);
    expect(s.history.size).toBe(1000);
  });

  it('a trickle of writes waits for the small put in flight and goes out as one put (group commit)', async () => {
    const s = pipelinedStore(4);
    const writer = new StoreWriter(s.store);
    writer.write(meta('a', 1), true);
    await until(() => s.pending.length === 1);
    writer.write(meta('b', 1), true);
    await tick();
    writer.write(meta('c', 1), true);
    await tick();
    // Not a statement per write: they wait behind the partial put in flight.
    expect(s.pending.length).toBe(1);
    s.answer();
    await until(() => s.pending.length === 1);
    expect(s.store.puts).toEqual([['a:1'], ['b:1', 'c:1']]);
    s.answer();
    expect(await writer.flush(1000)).toEqual([]);
  });

  it('I20 a failed put whose record has a newer version in a later put is not retried: the old version never lands after the new one', async () => {
    const s = pipelinedStore(4);
    const writer = new StoreWriter(s.store);
    const a1 = writer.writeDurable(meta('a', 1), false);
    const b1 = writer.writeDurable(meta('b', 1), true);
    // A full chunk: a partial put may go out beside it.
    fill(writer, 'f', CHUNK - 2);
    expect(s.pending.length).toBe(1);
    // a's newer version goes out beside the first put, which then fails (a lost connection
    // fails every put in flight; a statement error only its own: here only the first).
    const a2 = writer.writeDurable(meta('a', 2), true);
    await until(() => s.pending.length === 2);
    expect(s.store.puts[0]!.slice(0, 2)).toEqual(['a:1', 'b:1']);
    expect(s.store.puts[1]).toEqual(['a:2']);
    s.answer('fail');
    s.answer('ok');
    // a:1 is dropped (a:2 landed, its waiter with it); b:1 and the rest are split and written again.
    await expect(a1).resolves.toBeUndefined();
    await expect(a2).resolves.toBeUndefined();
    s.recover();
    await expect(b1).resolves.toBeUndefined();
    expect(await writer.flush(1000)).toEqual([]);
    expect(s.history.get('a')).toEqual([2]);
    expect(s.history.get('b')).toEqual([1]);
  });

  it('when every put in flight fails (a lost connection), each record is written again once, newest version only', async () => {
    const s = pipelinedStore(4);
    const writer = new StoreWriter(s.store);
    writer.write(meta('a', 1), true);
    writer.write(meta('b', 1), true);
    fill(writer, 'f', CHUNK - 2);
    writer.write(meta('a', 2), true);
    writer.write(meta('c', 1), true);
    fill(writer, 'g', CHUNK - 2);
    expect(s.pending.length).toBe(2);
    writer.write(meta('a', 3), true);
    await until(() => s.pending.length === 3);
    s.answer('fail');
    s.answer('fail');
    s.answer('fail');
    s.recover();
    expect(await writer.flush(5_000)).toEqual([]);
    expect(s.history.get('a')).toEqual([3]);
    expect(s.history.get('b')).toEqual([1]);
    expect(s.history.get('c')).toEqual([1]);
    expect(s.history.size).toBe(3 + 2 * (CHUNK - 2));
  });

  it('a refusal of a version superseded by one in a later put does not move memory back; the waiter follows the newer one', async () => {
    const s = pipelinedStore(4);
    const refusals: string[] = [];
    const writer = new StoreWriter(s.store, {
      onRefused: (rs) => refusals.push(...rs.map((r) => r.description)),
    });
    const v1 = writer.writeDurable(meta('a', 1), false);
    fill(writer, 'f', CHUNK - 1);
    expect(s.pending.length).toBe(1);
    const v2 = writer.writeDurable(meta('a', 2, { status: 'completed' }), true);
    await until(() => s.pending.length === 2);
    s.answer({ refuse: [meta('a', 0)] });
    await tick();
    expect(refusals).toEqual([]);
    // v1's waiter waits for v2's verdict.
    let v1Done = false;
    void v1.then(() => {
      v1Done = true;
    });
    await tick();
    expect(v1Done).toBe(false);
    s.answer('ok');
    await expect(v1).resolves.toBeUndefined();
    await expect(v2).resolves.toBeUndefined();
    expect(refusals).toEqual([]);
  });

  it.each([1, 4])(
    'I20 a callback of a dropped version writing another record of the failed put: that record’s older version never lands after its newer one (depth %i)',
    async (depth) => {
      const s = pipelinedStore(depth);
      const writer = new StoreWriter(s.store);
      writer.write(meta('x', 1), true, () => writer.write(meta('y', 2), true));
      writer.write(meta('y', 1), true);
      await until(() => s.pending.length === 1);
      // x:1 is superseded, then its newer version discarded (a prune): when the put fails, x:1 is
      // dropped and its callback (which writes y:2) runs while y:1 is being queued again.
      writer.write(meta('x', 2), true);
      const discarded = writer.discard(new Set(['x']));
      s.answer('fail');
      await discarded;
      s.recover();
      expect(await writer.flush(5_000)).toEqual([]);
      expect(s.history.get('y')).toEqual([2]);
      expect(s.history.has('x')).toBe(false);
    },
  );

  it('discard waits for every put in flight that holds the records', async () => {
    const s = pipelinedStore(4);
    const writer = new StoreWriter(s.store);
    writer.write(meta('a', 1), true);
    fill(writer, 'f', CHUNK - 1);
    expect(s.pending.length).toBe(1);
    writer.write(meta('b', 1), true);
    await until(() => s.pending.length === 2);
    let discarded = false;
    const d = writer.discard(new Set(['b'])).then(() => {
      discarded = true;
    });
    s.answer('ok');
    await tick();
    expect(discarded).toBe(false);
    s.answer('ok');
    await d;
    expect(discarded).toBe(true);
  });

  it('I20 property: under any interleaving of writes and failing puts, no version lands after a newer one, the newest lands, each callback runs once', async () => {
    const op = fc.oneof(
      fc.record({
        k: fc.constant('write' as const),
        id: fc.constantFrom('a', 'b', 'c', 'd'),
        // Often none; sometimes enough other records to make full chunks (puts side by side).
        many: fc.constantFrom(0, 0, 0, 130, 300),
      }),
      fc.record({ k: fc.constant('answer' as const), ok: fc.boolean() }),
      fc.record({ k: fc.constant('tick' as const) }),
    );
    let sideBySide = 0;
    await assertWithSeed(
      'writer pipelined',
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(op, { maxLength: 40 }),
        async (depth, ops) => {
          const s = pipelinedStore(depth);
          const writer = new StoreWriter(s.store);
          const version = new Map<string, number>();
          const calls = new Map<string, number>();
          let written = 0;
          const write = (id: string) => {
            const v = (version.get(id) ?? 0) + 1;
            version.set(id, v);
            const key = `${id}:${v}`;
            written++;
            writer.write(meta(id, v), true, () => calls.set(key, (calls.get(key) ?? 0) + 1));
          };
          for (const o of ops) {
            if (o.k === 'write') {
              write(o.id);
              for (let i = 0; i < o.many; i++) write(`x${i}`);
            } else if (o.k === 'answer') {
              if (s.pending.length > 0) s.answer(o.ok ? 'ok' : 'fail');
              await tick();
            } else {
              await tick();
            }
            expect(s.pending.length).toBeLessThanOrEqual(depth);
          }
          s.recover();
          expect(await writer.flush(5_000)).toEqual([]);
          for (const [id, v] of version) {
            const h = s.history.get(id) ?? [];
            // Strictly increasing, ending at the newest version.
            for (let i = 1; i < h.length; i++) expect(h[i]).toBeGreaterThan(h[i - 1]!);
            expect(h.at(-1)).toBe(v);
          }
          expect(calls.size).toBe(written);
          for (const n of calls.values()) expect(n).toBe(1);
          expect(s.maxInFlight()).toBeLessThanOrEqual(depth);
          sideBySide = Math.max(sideBySide, s.maxInFlight());
        },
      ),
      runsFor(200),
    );
    // The runs did put several puts in flight at once.
    expect(sideBySide).toBeGreaterThan(1);
  });
});
