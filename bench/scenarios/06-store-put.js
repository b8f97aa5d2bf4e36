// 6. put records/s of the memory, SQLite and (with DATABASE_URL) PostgreSQL stores: 100k fresh records in batches of 1,000 (what a
// supervisor's group commit writes per tick). No target; context for scenario 7.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTaskStore } from '../../dist/src/index.js';
import { interleave, now, row } from '../lib/measure.js';

export const id = 6;
export const title = 'store put';
export const needsSqlite = true;

let serial = 0;
function record() {
  const n = serial++;
  return {
    task_id: `bg_${n}`,
    owner_thread_id: 'bench-thread',
    task_type: 'shell',
    description: `build step ${n}`,
    status: 'completed',
    result: { status: 'completed', value: { exit_code: 0, lines: n % 97 } },
    created_at_ms: 1_700_000_000_000 + n,
    completed_at_ms: 1_700_000_000_050 + n,
    parent_context: { run_id: `run-${n % 13}` },
  };
}

async function putRun(store, total, batch) {
  await store.put([record()]); // schema creation outside the measurement
  const t0 = now();
  for (let done = 0; done < total; done += batch) {
    const rows = new Array(Math.min(batch, total - done));
    for (let i = 0; i < rows.length; i++) rows[i] = record();
    await store.put(rows);
  }
  const rate = (total / (now() - t0)) * 1000;
  await store.close?.();
  return rate;
}

export async function run({ trials, scale }) {
  const { SqliteTaskStore } = await import('../../dist/src/stores/sqlite/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'awaken-bench-'));
  const total = Math.round(100_000 * scale);
  let k = 0;
  try {
    const rows = [];
    for (const [label, opts] of [
      ['synchronous=full (default)', {}],
      ['synchronous=normal', { synchronous: 'normal' }],
    ]) {
      const r = await interleave({
        trials,
        warmup: 1,
        baseline: () => putRun(new MemoryTaskStore(), total, 1000),
        ours: () => putRun(new SqliteTaskStore(join(dir, `put-${k++}.db`), opts), total, 1000),
      });
      rows.push(
        row({
          scenario: `6 put ${total / 1000}k records, batches of 1,000: memory vs SQLite ${label}`,
          metric: 'put',
          unit: 'records/s',
          better: 'higher',
          baselineLabel: 'memory',
          oursLabel: 'sqlite',
          ...r,
          note: 'context only',
        }),
      );
    }
    const url = process.env.DATABASE_URL;
    if (url) {
      const { PostgresTaskStore } = await import('../../dist/src/stores/postgres/index.js');
      const r = await interleave({
        trials,
        warmup: 1,
        baseline: () => putRun(new MemoryTaskStore(), total, 1000),
        ours: () =>
          putRun(
            new PostgresTaskStore({ connectionString: url, table: `bench_put_${process.pid}_${k++}` }),
            total,
            1000,
          ),
      });
      rows.push(
        row({
          scenario: `6 put ${total / 1000}k records, batches of 1,000: memory vs PostgreSQL (DATABASE_URL)`,
          metric: 'put',
          unit: 'records/s',
          better: 'higher',
          baselineLabel: 'memory',
          oursLabel: 'postgres',
          ...r,
          note: 'context only',
        }),
      );
    } else {
      console.log(
        '  (6: PostgreSQL put skipped: set DATABASE_URL, e.g. `source .ci/postgres.sh && start_postgres`)',
      );
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
