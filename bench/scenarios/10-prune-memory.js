// 10. Bytes per finished task left after `prune`, memory store: `prune({ fromStore: true })`
// (records deleted from the store too) against plain `prune()` (memory only; the store keeps every
// record). heapUsed delta after a full GC, from before the spawns to after the prune.
import { MemoryTaskStore } from '../../dist/src/index.js';
import { counter, interleave, row, settleHeap } from '../lib/measure.js';
import { countingSupervisor, spawnWaves } from '../lib/ours.js';

export const id = 10;
export const title = 'bytes per finished task after prune (memory store)';

const heapUsed = () => process.memoryUsage().heapUsed;

async function keptAfterPrune(n, fromStore) {
  const store = new MemoryTaskStore();
  const { supervisor, settled } = countingSupervisor(counter, { store });
  // First-use allocations (ids, maps, the writer) outside the measurement.
  await spawnWaves(supervisor, settled, 1, 1);
  supervisor.prune({ fromStore });
  await settleHeap();
  const before = heapUsed();
  await spawnWaves(supervisor, settled, n, 1_000);
  if (supervisor.prune({ fromStore }) !== n) throw new Error('prune did not take every task');
  await supervisor.stop(); // waits for the store deletes
  await settleHeap();
  const bytes = (heapUsed() - before) / n;
  const left = (await store.load()).length;
  if (fromStore ? left !== 0 : left !== n + 1) throw new Error(`store holds ${left} records`);
  return bytes;
}

export async function run({ trials, scale }) {
  const n = Math.round(20_000 * scale);
  const r = await interleave({
    trials,
    warmup: 1,
    baseline: () => keptAfterPrune(n, false),
    ours: () => keptAfterPrune(n, true),
  });
  return [
    row({
      scenario: `10 bytes per finished task after prune @${n / 1000}k`,
      metric: 'heap',
      unit: 'B/task',
      better: 'lower',
      baselineLabel: 'prune()',
      oursLabel: 'prune({fromStore})',
      ...r,
      target: { op: '<=', value: 0.1, label: '0.1×' },
    }),
  ];
}
