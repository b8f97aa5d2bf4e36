// 2. Heap per live parked task at 10k: heapUsed delta after a full GC, bodies awaiting cancellation.
import { createBaseline, parkedBody as baseParked } from '../lib/baseline.js';
import { counter, interleave, settleHeap, tick } from '../lib/measure.js';
import { countingSupervisor, OPTS, parkedBody } from '../lib/ours.js';
import { row } from '../lib/measure.js';

export const id = 2;
export const title = 'heap per parked task';

const heapUsed = () => process.memoryUsage().heapUsed;

async function baselineRun(n) {
  const settled = counter();
  const rt = createBaseline({ onSettled: () => settled.hit() });
  rt.spawn(baseParked).controller.abort(); // first-use allocations outside the measurement
  await settled.until(1);
  await settleHeap();
  const before = heapUsed();
  const tasks = new Array(n);
  for (let i = 0; i < n; i++) tasks[i] = rt.spawn(baseParked);
  await tick();
  await settleHeap();
  const bytes = (heapUsed() - before) / n;
  for (const t of tasks) t.controller.abort();
  await settled.until(n + 1);
  return bytes;
}

export async function oursRun(n) {
  const { supervisor, settled } = countingSupervisor(counter);
  const first = await supervisor.spawn(OPTS, parkedBody);
  supervisor.cancel(first);
  await settled.until(1);
  await settleHeap();
  const before = heapUsed();
  const spawns = new Array(n);
  for (let i = 0; i < n; i++) spawns[i] = supervisor.spawn(OPTS, parkedBody);
  await Promise.all(spawns);
  await tick();
  await settleHeap();
  const bytes = (heapUsed() - before) / n;
  if (supervisor.stats().live !== n) throw new Error('ours: tasks not parked');
  supervisor.cancelAll(OPTS.threadId);
  await settled.until(n + 1);
  await supervisor.stop();
  return bytes;
}

export async function run({ trials, scale }) {
  const n = Math.round(10_000 * scale);
  const r = await interleave({ trials, warmup: 1, baseline: () => baselineRun(n), ours: () => oursRun(n) });
  return [
    row({
      scenario: `2 heap per parked task @${n / 1000}k`,
      metric: 'heap',
      unit: 'B/task',
      better: 'lower',
      ...r,
      target: { op: '<=', value: 3, label: '3×' },
    }),
  ];
}
