// 1. spawn → complete of 100k tasks: in waves of 1,000 concurrent, and all at once. Tasks/s;
// target ≥ 0.3× the baseline in both shapes (issue 25).
import { createBaseline, quickBody as baseQuick } from '../lib/baseline.js';
import { counter, interleave, median, now, row } from '../lib/measure.js';
import { countingSupervisor, spawnWaves } from '../lib/ours.js';

export const id = 1;
export const title = 'spawn → complete';

/** Process CPU time (µs, all threads: GC helpers included) since `c0`, per task. */
const cpuPerTask = (c0, total) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / total;
};

async function baselineRun(total, wave, cpuTimes) {
  const settled = counter();
  const rt = createBaseline({ onSettled: () => settled.hit() });
  const c0 = process.cpuUsage();
  const t0 = now();
  for (let done = 0; done < total; done += wave) {
    const n = Math.min(wave, total - done);
    for (let i = 0; i < n; i++) rt.spawn(baseQuick);
    await settled.until(done + n);
  }
  const ms = now() - t0;
  cpuTimes?.push(cpuPerTask(c0, total));
  if (rt.tasks.get('bg_0').status !== 'completed') throw new Error('baseline: task did not complete');
  return (total / ms) * 1000;
}

export async function oursRun(total, wave, cpuTimes) {
  const { supervisor, settled } = countingSupervisor(counter);
  const c0 = process.cpuUsage();
  const t0 = now();
  await spawnWaves(supervisor, settled, total, wave);
  const ms = now() - t0;
  cpuTimes?.push(cpuPerTask(c0, total));
  const stats = supervisor.stats();
  if (stats.spawned !== total || stats.live !== 0) throw new Error(`ours: ${JSON.stringify(stats)}`);
  await supervisor.stop();
  return (total / ms) * 1000;
}

export async function run({ trials, scale }) {
  const total = Math.round(100_000 * scale);
  const rows = [];
  for (const [label, wave] of [
    ['waves of 1,000', 1000],
    ['all at once', total],
  ]) {
    // Warm-up on a tenth of the work (JIT both paths), then interleaved full-size trials.
    const small = Math.round(total / 10);
    await baselineRun(small, Math.min(wave, small));
    await oursRun(small, Math.min(wave, small));
    const cpu = { baseline: [], ours: [] };
    const r = await interleave({
      trials,
      warmup: 0,
      baseline: () => baselineRun(total, wave, cpu.baseline),
      ours: () => oursRun(total, wave, cpu.ours),
    });
    // CPU time is less at the mercy of other processes on a shared machine than the wall clock.
    const [cpuBase, cpuOurs] = [median(cpu.baseline), median(cpu.ours)];
    rows.push(
      row({
        scenario: `1 spawn→complete ${total / 1000}k, ${label}`,
        metric: 'throughput',
        unit: 'tasks/s',
        better: 'higher',
        ...r,
        target: { op: '>=', value: 0.3, label: '0.3×' },
        note: `process CPU µs/task (medians): baseline ${cpuBase.toFixed(1)}, ours ${cpuOurs.toFixed(1)}; throughput by CPU time ${(cpuBase / cpuOurs).toFixed(2)}`,
      }),
    );
  }
  return rows;
}
