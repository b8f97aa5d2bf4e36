// 13. A tool's name lookup (send_message's child route) among 50k tasks in 50 threads: the
// supervisor's name index (findLiveTaskOfThread → findRunningByName) vs the scan of every task's
// record it replaced (Object.values(persistedSnapshot()) filtered by name and thread).
import { findLiveTaskOfThread } from '../../dist/src/agent/resolve.js';
import { interleave, now, row } from '../lib/measure.js';
import { createTaskSupervisor, parkedBody } from '../lib/ours.js';

export const id = 13;
export const title = 'name lookup at 50k tasks';

function scanLookup(supervisor, threadId, name) {
  for (const m of Object.values(supervisor.persistedSnapshot())) {
    if (
      m.owner_thread_id === threadId &&
      m.name === name &&
      supervisor.get(m.task_id)?.status === 'running'
    ) {
      return m.task_id;
    }
  }
  return undefined;
}

/** µs per lookup over `lookups` random names. */
function time(supervisor, n, lookups, lookup) {
  let found = 0;
  const t0 = now();
  for (let i = 0; i < lookups; i++) {
    const k = (i * 7919) % n;
    if (lookup(supervisor, `t${k % 50}`, `n${k}`) !== undefined) found++;
  }
  const us = ((now() - t0) * 1000) / lookups;
  if (found !== lookups) throw new Error(`found ${found} of ${lookups}`);
  return us;
}

export async function run({ trials, scale }) {
  const n = Math.round(50_000 * scale);
  const supervisor = createTaskSupervisor();
  const spawns = [];
  for (let i = 0; i < n; i++) {
    spawns.push(
      supervisor.spawn(
        { threadId: `t${i % 50}`, taskType: 'w', description: 'd', name: `n${i}` },
        parkedBody,
      ),
    );
  }
  await Promise.all(spawns);
  const r = await interleave({
    trials,
    warmup: 1,
    baseline: async () => time(supervisor, n, 20, scanLookup),
    ours: async () => time(supervisor, n, 200_000, findLiveTaskOfThread),
  });
  for (let i = 0; i < 50; i++) supervisor.cancelAll(`t${i}`);
  await supervisor.stop();
  return [
    row({
      scenario: `13 name lookup among ${n / 1000}k tasks: index vs scan`,
      metric: 'lookup',
      unit: 'µs/lookup',
      better: 'lower',
      ...r,
      baselineLabel: 'scan',
      oursLabel: 'index',
      target: { op: '<=', value: 0.01, label: '1/100' },
    }),
  ];
}
