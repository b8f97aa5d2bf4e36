// 7. spawn → complete throughput of the supervisor on a SQLite file vs the memory store, in waves
// of 1,000 (group commit: one put per tick). Target: SQLite ≥ 1/2 of memory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTaskStore } from '../../dist/src/index.js';
import { counter, interleave, now, row } from '../lib/measure.js';
import { countingSupervisor, spawnWaves } from '../lib/ours.js';

export const id = 7;
export const title = 'spawn → complete on SQLite';
export const needsSqlite = true;

async function spawnRun(store, total, wave) {
  const { supervisor, settled } = countingSupervisor(counter, { store });
  const t0 = now();
  await spawnWaves(supervisor, settled, total, wave);
  const rate = (total / (now() - t0)) * 1000;
  await supervisor.stop();
  await store.close?.();
  return rate;
}

export async function run({ trials, scale }) {
  const { SqliteTaskStore } = await import('../../dist/src/stores/sqlite/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'awaken-bench-'));
  const total = Math.round(20_000 * scale);
  let k = 0;
  try {
    const r = await interleave({
      trials,
      warmup: 1,
      baseline: () => spawnRun(new MemoryTaskStore(), total, 1000),
      ours: () => spawnRun(new SqliteTaskStore(join(dir, `spawn-${k++}.db`)), total, 1000),
    });
    return [
      row({
        scenario: `7 spawn→complete ${total / 1000}k on SQLite file vs memory store (waves of 1,000)`,
        metric: 'throughput',
        unit: 'tasks/s',
        better: 'higher',
        baselineLabel: 'memory',
        oursLabel: 'sqlite',
        ...r,
        target: { op: '>=', value: 0.5, label: '1/2' },
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
