#!/usr/bin/env node
// Profiles only the cancel phase of scenario 3 (cancelTree of root → 100 → leaves): one warm-up
// round, then `rounds` rounds each profiled from the cancel call until every node settled (the
// tree is built outside the profile), one file per round; prints CPU µs per node:
//   node bench/profile-cancel.js [leaves=10000] [rounds=5] [outPrefix=/tmp/cancel]
//   node bench/profile-summary.js /tmp/cancel-*.cpuprofile
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { counter, now } from './lib/measure.js';
import { countingSupervisor, OPTS, parkedBody } from './lib/ours.js';

const leaves = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 5);
const out = process.argv[4] ?? '/tmp/cancel';
const mids = 100;
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
for (let r = 0; r < rounds + 1; r++) {
  const { supervisor, settled } = countingSupervisor(counter);
  const root = await supervisor.spawn(OPTS, parkedBody);
  const inner = await Promise.all(
    Array.from({ length: mids }, () =>
      supervisor.spawn({ ...OPTS, parentContext: { task_id: root } }, parkedBody),
    ),
  );
  const spawns = [];
  for (let l = 0; l < leaves; l++)
    spawns.push(supervisor.spawn({ ...OPTS, parentContext: { task_id: inner[l % mids] } }, parkedBody));
  await Promise.all(spawns);
  await new Promise((res) => setImmediate(res));
  const profiling = r > 0;
  if (profiling) await session.post('Profiler.start');
  const nodes = 1 + mids + leaves;
  const c0 = process.cpuUsage();
  const t0 = now();
  supervisor.cancelTree(root);
  const t1 = now();
  const c1 = process.cpuUsage(c0);
  await settled.until(nodes);
  const t2 = now();
  const c2 = process.cpuUsage(c0);
  const cpu = (c) => ((c.user + c.system) / nodes).toFixed(1);
  console.log(
    `signal ${(t1 - t0).toFixed(1)} ms (CPU ${cpu(c1)} µs/node), settled ${(t2 - t0).toFixed(1)} ms (CPU ${cpu(c2)} µs/node)`,
  );
  if (profiling)
    writeFileSync(`${out}-${r}.cpuprofile`, JSON.stringify((await session.post('Profiler.stop')).profile));
  await supervisor.stop();
}
