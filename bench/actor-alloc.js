#!/usr/bin/env node
// Bytes XState allocates per task actor, by step, with the supervisor's way of creating it (the
// precomputed `running.active` snapshot, a shared parent) and no-op actions: create + start, then
// either `task.cancel` and the settle to a final state (a cancelled tree's node) or the settle
// straight from `running.active` (a task that completes). Run with a young generation large
// enough that no GC happens in a step, so the heap's growth is what the step allocated:
//   node --expose-gc --max-semi-space-size=1024 --min-semi-space-size=1024 bench/actor-alloc.js
import { createActor, createEmptyActor } from 'xstate';
import { taskMachine } from '../dist/machines/task.machine.js';
import { memoizedTransition } from '../dist/src/supervisor/transitionMemo.js';

const noop = () => {};
const logic0 = taskMachine.provide({ actions: { abortBody: noop, armGrace: noop, noteStopReason: noop } });
const initial = createActor(logic0, { input: { taskId: '', cancelGraceMs: 1000 } }).getSnapshot();
// `--no-memo`: XState's own transitions, as before the supervisor remembered them.
const memo = !process.argv.includes('--no-memo');
const logic = Object.create(logic0, {
  restoreSnapshot: { value: (s) => s },
  ...(memo ? { transition: { value: memoizedTransition(logic0) } } : {}),
});
const parent = createEmptyActor();
parent.start();
const N = 10_000;
const CANCEL = Object.freeze({ type: 'task.cancel', reason: 'parent' });
const RESULT = { type: 'returned', result: { status: 'completed', value: null } };
const SETTLED = Object.freeze({ type: 'task.settled', outcome: RESULT });
const heap = () => process.memoryUsage().heapUsed;

function create() {
  const actors = new Array(N);
  for (let i = 0; i < N; i++) {
    const context = { taskId: `bg_${i}`, cancelGraceMs: 1000 };
    const snapshot = { ...initial, context };
    actors[i] = createActor(logic, { id: context.taskId, snapshot, parent }).start();
  }
  return actors;
}

for (let round = 0; round < 3; round++) {
  globalThis.gc?.();
  const h0 = heap();
  const tree = create();
  const h1 = heap();
  for (const a of tree) a.send(CANCEL);
  const h2 = heap();
  for (const a of tree) a.send(SETTLED);
  const h3 = heap();
  globalThis.gc?.();
  const quick = create();
  const h4 = heap();
  for (const a of quick) a.send(SETTLED);
  const h5 = heap();
  if (tree[1].getSnapshot().value !== 'completed' || quick[1].getSnapshot().status !== 'done')
    throw new Error('actor-alloc: unexpected state');
  if (round < 2) continue;
  const b = (x) => `${Math.round(x / N)} B`;
  console.log(`create + start: ${b(h1 - h0)}`);
  console.log(`task.cancel (running.active → running.cancelling): ${b(h2 - h1)}`);
  console.log(`task.settled (running.cancelling → final): ${b(h3 - h2)}`);
  console.log(`task.settled (running.active → completed): ${b(h5 - h4)}`);
}
