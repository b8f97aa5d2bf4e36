import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { createTaskSupervisor } from '../src/index.js';
import { MemoryTaskStore } from '../src/stores/memory.js';
import { PostgresTaskStore } from '../src/stores/postgres/index.js';
import { SqliteTaskStore } from '../src/stores/sqlite/index.js';
import type { TaskStore } from '../src/stores/types.js';
import type { PersistedTaskMeta } from '../src/wire/types.js';

/** One measured store: `put` throughput over `records` records in batches of `batch`. */
export interface StoreBenchRow {
  readonly store: string;
  readonly records: number;
  readonly batch: number;
  readonly recordsPerSecond: number;
  readonly msPerRun: number;
}

let serial = 0;
/** A realistic terminal record: a small result object and lineage, as a completed task leaves. */
function record(thread: string): PersistedTaskMeta {
  const n = serial++;
  return {
    task_id: `bg_${n}`,
    owner_thread_id: thread,
    task_type: 'shell',
    description: `build step ${n}`,
    status: 'completed',
    result: { exit_code: 0, lines: n % 97, output: 'ok' },
    created_at_ms: 1_700_000_000_000 + n,
    completed_at_ms: 1_700_000_000_050 + n,
    parent_context: { run_id: `run-${n % 13}` },
  };
}

/**
 * `put` records/s of each store: `records` fresh records per run (inserts, not updates), in
 * batches of `batch` — a supervisor's group commit writes one batch per tick. PostgreSQL is
 * measured when `DATABASE_URL` is set.
 *
 * @example
 * for (const row of await storeBench()) console.log(row.store, Math.round(row.recordsPerSecond));
 */
export async function storeBench({
  records = 100_000,
  batch = 1000,
  runs = 3,
} = {}): Promise<StoreBenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'awaken-bench-'));
  const url = process.env.DATABASE_URL;
  const table = `bench_${process.pid}`;
  const stores: Array<readonly [string, () => TaskStore]> = [
    ['memory', () => new MemoryTaskStore()],
    ['sqlite file (synchronous=full)', () => new SqliteTaskStore(join(dir, 'full.db'))],
    [
      'sqlite file (synchronous=normal)',
      () => new SqliteTaskStore(join(dir, 'normal.db'), { synchronous: 'normal' }),
    ],
    ["sqlite ':memory:'", () => new SqliteTaskStore(':memory:')],
  ];
  if (url) stores.push(['postgres', () => new PostgresTaskStore({ connectionString: url, table })]);

  const bench = new Bench({ iterations: runs, time: 0, warmup: false });
  const open: TaskStore[] = [];
  for (const [name, make] of stores) {
    let store: TaskStore | undefined;
    bench.add(
      name,
      async () => {
        for (let done = 0; done < records; done += batch) {
          const rows = Array.from({ length: Math.min(batch, records - done) }, () => record(name));
          await store!.put(rows);
        }
      },
      {
        beforeAll: async () => {
          store = make();
          open.push(store);
          await store.put([record(name)]); // schema creation is not part of the measurement
        },
      },
    );
  }
  try {
    await bench.run();
  } finally {
    for (const s of open) await s.close?.();
    if (url) {
      const pg = (await import('pg')).default;
      const pool = new pg.Pool({ connectionString: url });
      await pool.query(`DROP TABLE IF EXISTS "${table}", "${table}_leases", "${table}_meta"`);
      await pool.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return bench.tasks.map((t) => {
    const result = t.result;
    if (result === undefined || result.error)
      throw new Error(`${t.name}: ${result?.error?.message ?? 'no result'}`);
    const ms = result.latency.mean;
    return { store: t.name, records, batch, recordsPerSecond: (records / ms) * 1000, msPerRun: ms };
  });
}

/** Spawn → complete throughput of a supervisor on one store. */
export interface SpawnBenchRow {
  readonly store: string;
  readonly tasks: number;
  readonly tasksPerSecond: number;
}

/**
 * Spawn → complete throughput on the memory store and on a SQLite file: `tasks` tasks spawned at
 * once, each returning at once, until every one is terminal. Group commit is what keeps SQLite
 * near memory: the writes of one tick go to the file in one transaction.
 *
 * @example
 * const [memory, sqlite] = await spawnBench();
 */
export async function spawnBench({ tasks = 10_000, runs = 3 } = {}): Promise<SpawnBenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'awaken-bench-'));
  const makers: Array<readonly [string, () => TaskStore]> = [
    ['memory', () => new MemoryTaskStore()],
    ['sqlite file', () => new SqliteTaskStore(join(dir, `spawn-${serial++}.db`))],
  ];
  const bench = new Bench({ iterations: runs, time: 0, warmup: false });
  for (const [name, make] of makers) {
    bench.add(name, async () => {
      const store = make();
      const supervisor = createTaskSupervisor({ store });
      const ids = await Promise.all(
        Array.from({ length: tasks }, (_, i) =>
          supervisor.spawn({ threadId: 't', taskType: 'bench', description: `task ${i}` }, () => i),
        ),
      );
      await Promise.all(ids.map((id) => supervisor.wait(id)));
      await supervisor.stop();
      await store.close?.();
    });
  }
  try {
    await bench.run();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return bench.tasks.map((t) => {
    const result = t.result;
    if (result === undefined || result.error)
      throw new Error(`${t.name}: ${result?.error?.message ?? 'no result'}`);
    return { store: t.name, tasks, tasksPerSecond: (tasks / result.latency.mean) * 1000 };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (!process.env.DATABASE_URL) console.warn('stores bench: DATABASE_URL not set, PostgreSQL not measured');
  const rows = await storeBench();
  console.table(
    rows.map((r) => ({
      store: r.store,
      'records/s': Math.round(r.recordsPerSecond).toLocaleString('en'),
      [`ms per ${r.records.toLocaleString('en')}`]: r.msPerRun.toFixed(0),
      batch: r.batch,
    })),
  );
  const spawn = await spawnBench();
  console.table(
    spawn.map((r) => ({
      store: r.store,
      'spawn → complete /s': Math.round(r.tasksPerSecond).toLocaleString('en'),
    })),
  );
  const [memory, sqlite] = spawn;
  if (memory && sqlite)
    console.log(
      `SQLite / memory spawn → complete: ${(sqlite.tasksPerSecond / memory.tasksPerSecond).toFixed(2)}`,
    );
}
