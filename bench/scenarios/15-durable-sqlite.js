// 15. Durable spawn → complete on a SQLite file vs plain spawn → complete on a SQLite file, in
// waves of 500. A durable task adds its row (input, idempotency index), one conditional claim per
// attempt, a steps read and the row's `done` — each its own transaction today (the records keep
// their group commit). Also reports add → start latency (spawn call → body start), mean and max.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineTask } from '../../dist/src/index.js';
import { counter, fmt, interleave, now, row } from '../lib/measure.js';
import { countingSupervisor, OPTS, quickBody } from '../lib/ours.js';

export const id = 15;
export const title = 'durable spawn → complete on SQLite';
export const needsSqlite = true;

const latencies = [];

async function runWaves(store, total, wave, durable) {
  const { supervisor, settled } = countingSupervisor(counter, { store });
  const job = defineTask({
    taskType: 'durable-bench',
    durable: { retry: { maximumAttempts: 3 } },
    run: async (_ctx, input) => {
      latencies.push(now() - input.at);
      return { ok: true };
    },
  });
  const t0 = now();
  for (let done = 0; done < total; done += wave) {
    const n = Math.min(wave, total - done);
    const spawns = new Array(n);
    for (let i = 0; i < n; i++) {
      spawns[i] = durable
        ? job.spawn(supervisor, { threadId: OPTS.threadId, description: 'bench' }, { at: now() })
        : supervisor.spawn(OPTS, quickBody);
    }
    await Promise.all(spawns);
    await settled.until(done + n);
  }
  const rate = (total / (now() - t0)) * 1000;
  await supervisor.stop();
  await store.close();
  return rate;
}

export async function run({ trials, scale }) {
  const { SqliteTaskStore } = await import('../../dist/src/stores/sqlite/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'awaken-bench-durable-'));
  const total = Math.round(5_000 * scale);
  let k = 0;
  try {
    latencies.length = 0;
    const r = await interleave({
      trials,
      warmup: 1,
      baseline: () => runWaves(new SqliteTaskStore(join(dir, `plain-${k++}.db`)), total, 500, false),
      ours: () => runWaves(new SqliteTaskStore(join(dir, `durable-${k++}.db`)), total, 500, true),
    });
    const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
    const max = Math.max(...latencies);
    return [
      row({
        scenario: `15 durable spawn→complete ${total / 1000}k on SQLite vs plain spawn on SQLite (waves of 500)`,
        metric: 'throughput',
        unit: 'tasks/s',
        better: 'higher',
        baselineLabel: 'plain',
        oursLabel: 'durable',
        ...r,
        note: `durable add→start latency mean ${fmt(mean)} ms, max ${fmt(max)} ms (waves of 500)`,
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
