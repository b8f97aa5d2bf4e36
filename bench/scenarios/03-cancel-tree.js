// 3. cancelTree of a 3-level tree (root → 100 → 10k leaves, and root → 10 → 1k), time from the
// cancel call until every node has settled; µs per node at both sizes (linearity).
import { createBaseline, parkedBody as baseParked } from '../lib/baseline.js';
import { counter, interleave, median, now, row } from '../lib/measure.js';
import { countingSupervisor, OPTS, parkedBody } from '../lib/ours.js';

export const id = 3;
export const title = 'cancelTree';

const shapes = (scale) => [
  { mids: 10, leaves: Math.round(1_000 * scale) },
  { mids: 100, leaves: Math.round(10_000 * scale) },
];

/** Process CPU time (µs, all threads: GC helpers included) since `c0`, per node. */
const cpuPerNode = (c0, nodes) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / nodes;
};

async function baselineRun({ mids, leaves }, signalTimes, cpuTimes) {
  const settled = counter();
  const rt = createBaseline({ onSettled: () => settled.hit() });
  const root = rt.spawn(baseParked);
  rt.allowManyListeners(root);
  const inner = [];
  for (let m = 0; m < mids; m++) {
    const mid = rt.spawn(baseParked, root);
    rt.allowManyListeners(mid);
    inner.push(mid);
  }
  for (let l = 0; l < leaves; l++) rt.spawn(baseParked, inner[l % mids]);
  const nodes = 1 + mids + leaves;
  const c0 = process.cpuUsage();
  const t0 = now();
  root.controller.abort();
  signalTimes?.push(now() - t0);
  await settled.until(nodes);
  const us = ((now() - t0) * 1000) / nodes;
  cpuTimes?.push(cpuPerNode(c0, nodes));
  if (rt.tasks.get(`bg_${nodes - 1}`).status !== 'cancelled') throw new Error('baseline: leaf not cancelled');
  return us;
}

export async function oursRun({ mids, leaves }, signalTimes, cpuTimes) {
  const { supervisor, settled } = countingSupervisor(counter);
  const root = await supervisor.spawn(OPTS, parkedBody);
  const inner = await Promise.all(
    Array.from({ length: mids }, () =>
      supervisor.spawn({ ...OPTS, parentContext: { task_id: root } }, parkedBody),
    ),
  );
  const spawns = new Array(leaves);
  for (let l = 0; l < leaves; l++) {
    spawns[l] = supervisor.spawn({ ...OPTS, parentContext: { task_id: inner[l % mids] } }, parkedBody);
  }
  await Promise.all(spawns);
  const nodes = 1 + mids + leaves;
  const c0 = process.cpuUsage();
  const t0 = now();
  const signalled = supervisor.cancelTree(root);
  signalTimes?.push(now() - t0);
  if (signalled !== nodes) throw new Error(`ours: cancelTree signalled ${signalled} of ${nodes}`);
  await settled.until(nodes);
  const us = ((now() - t0) * 1000) / nodes;
  cpuTimes?.push(cpuPerNode(c0, nodes));
  const stats = supervisor.stats();
  if (stats.live !== 0) throw new Error(`ours: ${stats.live} still live`);
  await supervisor.stop();
  return us;
}

export async function run({ trials, scale }) {
  const rows = [];
  const perNode = {};
  for (const shape of shapes(scale)) {
    const nodes = 1 + shape.mids + shape.leaves;
    const sig = { baseline: [], ours: [] };
    const cpu = { baseline: [], ours: [] };
    const r = await interleave({
      trials,
      warmup: 1,
      baseline: () => baselineRun(shape, sig.baseline, cpu.baseline),
      ours: () => oursRun(shape, sig.ours, cpu.ours),
    });
    // CPU time is less at the mercy of other processes on a shared machine than the wall clock.
    const [cpuBase, cpuOurs] = [median(cpu.baseline.slice(-trials)), median(cpu.ours.slice(-trials))];
    perNode[shape.leaves] = r;
    rows.push(
      row({
        scenario: `3 cancelTree root→${shape.mids}→${shape.leaves / 1000}k (${nodes} nodes), signal+settled`,
        metric: 'cancel',
        unit: 'µs/node',
        better: 'lower',
        ...r,
        target: { op: '<=', value: 3, label: '3×' },
        note: `signal phase only (ms, last trials): baseline ${sig.baseline
          .slice(-trials)
          .map((x) => x.toFixed(1))
          .join('/')}, ours ${sig.ours
          .slice(-trials)
          .map((x) => x.toFixed(1))
          .join(
            '/',
          )}; process CPU µs/node (medians): baseline ${cpuBase.toFixed(1)}, ours ${cpuOurs.toFixed(1)}, ratio ${(cpuOurs / cpuBase).toFixed(2)}`,
      }),
    );
  }
  // Linearity: µs per node at the large tree over µs per node at the small one (1.0 = linear).
  const [small, large] = shapes(scale).map((s) => perNode[s.leaves]);
  rows.push(
    row({
      scenario: `3 cancelTree linearity: µs/node @${shapes(scale)[1].leaves / 1000}k ÷ @${shapes(scale)[0].leaves / 1000}k (ours)`,
      metric: 'linearity',
      unit: 'µs/node',
      better: 'lower',
      baselineLabel: 'ours @small',
      oursLabel: 'ours @large',
      baseline: small.ours,
      ours: large.ours,
      target: { op: '<=', value: 1.5, label: '1.5× (linear)' },
      note: `baseline's own growth: ${(large.baseline.reduce((a, b) => a + b) / small.baseline.reduce((a, b) => a + b)).toFixed(2)}×`,
    }),
  );
  return rows;
}
