// 20. spawn → complete of 10k tasks all at once with `concurrency: { global: 8 }` (queued, eight
// bodies at a time) against the same 10k without a limit (every body starts at once). Tasks/s.
import { counter, interleave, now, row } from '../lib/measure.js';
import { countingSupervisor, OPTS, quickBody } from '../lib/ours.js';

export const id = 20;
export const title = 'spawn 10k with a concurrency limit of 8';

async function spawnAll(options, total) {
  const { supervisor, settled } = countingSupervisor(counter, options);
  let running = 0;
  let peak = 0;
  const body = async () => {
    peak = Math.max(peak, ++running);
    const value = await quickBody();
    running--;
    return value;
  };
  const t0 = now();
  const spawns = new Array(total);
  for (let i = 0; i < total; i++) spawns[i] = supervisor.spawn(OPTS, body);
  await Promise.all(spawns);
  await settled.until(total);
  const ms = now() - t0;
  const stats = supervisor.stats();
  if (stats.spawned !== total || stats.live !== 0) throw new Error(`ours: ${JSON.stringify(stats)}`);
  const limit = options.concurrency?.global;
  if (limit !== undefined && peak > limit) throw new Error(`${peak} bodies ran at once, limit ${limit}`);
  await supervisor.stop();
  return (total / ms) * 1000;
}

export async function run({ trials, scale }) {
  const total = Math.round(10_000 * scale);
  await spawnAll({}, Math.round(total / 10));
  await spawnAll({ concurrency: { global: 8 } }, Math.round(total / 10));
  const r = await interleave({
    trials,
    warmup: 0,
    baseline: () => spawnAll({}, total),
    ours: () => spawnAll({ concurrency: { global: 8 } }, total),
  });
  return [
    row({
      scenario: `20 spawn→complete ${total / 1000}k all at once: limit 8 vs no limit`,
      metric: 'throughput',
      unit: 'tasks/s',
      better: 'higher',
      baselineLabel: 'no limit',
      oursLabel: 'limit 8',
      ...r,
      note: 'every task completes; at most 8 bodies ran at once (checked)',
    }),
  ];
}
