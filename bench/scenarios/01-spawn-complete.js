// 1. spawn → complete of 100k tasks: in waves of 1,000 concurrent, and all at once. Tasks/s.
import { createBaseline, quickBody as baseQuick } from '../lib/baseline.js';
import { counter, interleave, now, row } from '../lib/measure.js';
import { countingSupervisor, spawnWaves } from '../lib/ours.js';

export const id = 1;
export const title = 'spawn → complete';

async function baselineRun(total, wave) {
  const settled = counter();
  const rt = createBaseline({ onSettled: () => settled.hit() });
  const t0 = now();
  for (let done = 0; done < total; done += wave) {
    const n = Math.min(wave, total - done);
    for (let i = 0; i < n; i++) rt.spawn(baseQuick);
    await settled.until(done + n);
  }
  const ms = now() - t0;
  if (rt.tasks.get('bg_0').status !== 'completed') throw new Error('baseline: task did not complete');
  return (total / ms) * 1000;
}

export async function oursRun(total, wave) {
  const { supervisor, settled } = countingSupervisor(counter);
  const t0 = now();
  await spawnWaves(supervisor, settled, total, wave);
  const ms = now() - t0;
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
    const r = await interleave({
      trials,
      warmup: 0,
      baseline: () => baselineRun(total, wave),
      ours: () => oursRun(total, wave),
    });
    rows.push(
      row({
        scenario: `1 spawn→complete ${total / 1000}k, ${label}`,
        metric: 'throughput',
        unit: 'tasks/s',
        better: 'higher',
        ...r,
        target: { op: '>=', value: 0.25, label: '1/4' },
      }),
    );
  }
  return rows;
}
