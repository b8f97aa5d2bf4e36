// 11. Heap of an owner inbox nobody drains: 200k ctx.emit into createInbox({ capacity: 1000 }) vs
// the same into an unbounded inbox (capacity: Infinity, the behaviour before the bound). A second
// row shows the bounded heap is flat: 200k emits vs 10k emits (just full) into the default
// capacity of 10 000 (large enough that GC noise does not swamp the figure).
import { createInbox } from '../../dist/src/index.js';
import { interleave, row, settleHeap } from '../lib/measure.js';
import { createTaskSupervisor, OPTS } from '../lib/ours.js';

export const id = 11;
export const title = 'undrained inbox heap';

const heapUsed = () => process.memoryUsage().heapUsed;

/** Heap growth (bytes) after `n` emits into an inbox of `capacity` that nobody reads. */
async function heapAfterEmits(n, capacity) {
  const inbox = createInbox({ capacity });
  const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
  let ctx;
  await supervisor.spawn(OPTS, async (c) => {
    ctx = c;
    await c.cancelled();
  });
  await settleHeap();
  const before = heapUsed();
  for (let i = 0; i < n; i++) ctx.emit('progress', { percent: i % 100, step: i });
  await settleHeap();
  const grown = heapUsed() - before;
  if (inbox.receiver.size !== Math.min(n, capacity)) throw new Error(`inbox holds ${inbox.receiver.size}`);
  supervisor.cancelAll(OPTS.threadId);
  await supervisor.stop();
  inbox.receiver.close();
  return Math.max(grown, 1);
}

export async function run({ trials, scale }) {
  const n = Math.round(200_000 * scale);
  const vsUnbounded = await interleave({
    trials,
    warmup: 1,
    baseline: () => heapAfterEmits(n, Number.POSITIVE_INFINITY),
    ours: () => heapAfterEmits(n, 1000),
  });
  const flat = await interleave({
    trials,
    warmup: 0,
    baseline: () => heapAfterEmits(Math.round(n / 20), 10_000),
    ours: () => heapAfterEmits(n, 10_000),
  });
  return [
    row({
      scenario: `11 heap after ${n / 1000}k emits, undrained inbox: capacity 1000 vs unbounded`,
      metric: 'heap',
      unit: 'bytes',
      better: 'lower',
      ...vsUnbounded,
      baselineLabel: 'unbounded',
      oursLabel: 'cap 1000',
      target: { op: '<=', value: 0.05, label: '1/20' },
    }),
    row({
      scenario: `11 heap, capacity 10 000: ${n / 1000}k vs ${n / 20000}k emits (flat)`,
      metric: 'heap',
      unit: 'bytes',
      better: 'lower',
      ...flat,
      baselineLabel: `${n / 20000}k emits`,
      oursLabel: `${n / 1000}k emits`,
      target: { op: '<=', value: 1.5, label: '1.5×' },
    }),
  ];
}
