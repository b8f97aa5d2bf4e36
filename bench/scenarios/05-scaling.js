// 5. Linear scaling: the cost of one spawn (spawn → settle of a batch of 1,000 quick tasks) with 100k
// live parked tasks vs with 1k. Both populations are built first, then batches alternate between
// them so load noise hits both alike.
import { createBaseline, parkedBody as baseParked, quickBody as baseQuick } from '../lib/baseline.js';
import { counter, median, now, row, settleHeap } from '../lib/measure.js';
import { countingSupervisor, OPTS, parkedBody, quickBody } from '../lib/ours.js';

export const id = 5;
export const title = 'spawn cost vs live tasks';

const BATCH = 1000;

async function makeOurs(live) {
  const c = countingSupervisor(counter);
  const spawns = [];
  for (let i = 0; i < live; i++) {
    spawns.push(c.supervisor.spawn(OPTS, parkedBody));
    if (spawns.length === 1000) await Promise.all(spawns.splice(0));
  }
  await Promise.all(spawns);
  let done = 0;
  return {
    async batch() {
      const t0 = now();
      const s = new Array(BATCH);
      for (let i = 0; i < BATCH; i++) s[i] = c.supervisor.spawn(OPTS, quickBody);
      await Promise.all(s);
      await c.settled.until((done += BATCH));
      return ((now() - t0) * 1000) / BATCH;
    },
    async close() {
      c.supervisor.cancelAll(OPTS.threadId);
      await c.settled.until(done + live);
      await c.supervisor.stop();
    },
  };
}

async function makeBaseline(live) {
  const settled = counter();
  const rt = createBaseline({ onSettled: () => settled.hit() });
  const parked = [];
  for (let i = 0; i < live; i++) parked.push(rt.spawn(baseParked));
  let done = 0;
  return {
    async batch() {
      const t0 = now();
      for (let i = 0; i < BATCH; i++) rt.spawn(baseQuick);
      await settled.until((done += BATCH));
      return ((now() - t0) * 1000) / BATCH;
    },
    async close() {
      for (const t of parked) t.controller.abort();
      await settled.until(done + live);
    },
  };
}

async function measure(make, small, large, rounds) {
  const a = await make(small);
  const b = await make(large);
  await settleHeap();
  for (let i = 0; i < 2; i++) {
    await a.batch();
    await b.batch();
  }
  const at = { small: [], large: [] };
  for (let i = 0; i < rounds; i++) {
    at.small.push(await a.batch());
    at.large.push(await b.batch());
  }
  await a.close();
  await b.close();
  return at;
}

export async function run({ trials, scale }) {
  const small = Math.round(1_000 * scale);
  const large = Math.round(100_000 * scale);
  const rounds = 4 * trials;
  // Baseline first, then ours (each holds its large population only while it is measured).
  const base = await measure(makeBaseline, small, large, rounds);
  await settleHeap();
  const ours = await measure(makeOurs, small, large, rounds);
  await settleHeap();
  const growth = (x) => median(x.large) / median(x.small);
  return [
    row({
      scenario: `5 spawn cost @${large / 1000}k live vs @${small / 1000}k live (ours)`,
      metric: 'scaling',
      unit: 'µs/spawn',
      better: 'lower',
      baselineLabel: `ours @${small / 1000}k`,
      oursLabel: `ours @${large / 1000}k`,
      baseline: ours.small,
      ours: ours.large,
      target: { op: '<=', value: 1.5, label: '1.5×' },
      note: `baseline spawn→settle µs/task: ${median(base.small).toFixed(1)} @${small / 1000}k, ${median(base.large).toFixed(1)} @${large / 1000}k (growth ${growth(base).toFixed(2)}×)`,
    }),
    row({
      scenario: `5 spawn→settle cost @${large / 1000}k live: baseline vs ours`,
      metric: 'spawn-cost',
      unit: 'µs/spawn',
      better: 'lower',
      baseline: base.large,
      ours: ours.large,
      note: 'context only (the throughput target is scenario 1)',
    }),
  ];
}
