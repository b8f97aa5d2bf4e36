// 16. The actor floor: create + start + one settle event of 100k actors, the task machine beside a
// minimal XState machine (two states, no delays, no actions) in the same run, and `fromTransition`
// beside it; then the supervisor's spawn → complete beside its own task actor. Actors/s.
//
// "taskMachine (createActor)" is the exported machine run as its TSDoc shows; "taskMachine (as the
// supervisor runs it)" is what a spawn costs in XState: the actor created from the precomputed
// `running.active` snapshot, a child of one root actor (one actor system per supervisor), its
// transitions answered by the supervisor's memo (src/supervisor/transitionMemo.ts) once XState has
// computed them.
import { createActor, createEmptyActor, createMachine, fromTransition } from 'xstate';
import { taskMachine } from '../../dist/src/index.js';
import { memoizedTransition } from '../../dist/src/supervisor/transitionMemo.js';
import { counter, interleave, now, row } from '../lib/measure.js';
import { countingSupervisor, spawnWaves } from '../lib/ours.js';

export const id = 16;
export const title = 'actor floor (task machine vs minimal machine)';

const SETTLE = Object.freeze({
  type: 'task.settled',
  outcome: Object.freeze({ type: 'returned', result: Object.freeze({ status: 'completed', value: 1 }) }),
});

const minimal = createMachine({
  initial: 'running',
  states: { running: { on: { 'task.settled': 'completed' } }, completed: { type: 'final' } },
});
const transition = fromTransition(
  (state, event) => (event.type === 'task.settled' ? 'completed' : state),
  'running',
);

// The supervisor's way (src/supervisor/taskActors.ts): template snapshot, shared root actor.
const provided = taskMachine.provide({ actions: { abortBody: () => {} } });
const template = createActor(provided, { input: { taskId: '', cancelGraceMs: 30_000 } }).getSnapshot();
const asGiven = Object.create(provided, {
  restoreSnapshot: { value: (s) => s },
  transition: { value: memoizedTransition(provided) },
});

function timed(total, make) {
  const t0 = now();
  for (let i = 0; i < total; i++) {
    const actor = make(i).start();
    actor.send(SETTLE);
    // A machine ends `done`; a `fromTransition` actor stays active with its state as its context.
    const s = actor.getSnapshot();
    if (s.status !== 'done' && s.context !== 'completed') throw new Error('actor did not settle');
  }
  return (total / (now() - t0)) * 1000;
}

const runs = {
  minimal: (total) => timed(total, () => createActor(minimal)),
  fromTransition: (total) => timed(total, () => createActor(transition)),
  createActor: (total) =>
    timed(total, (i) => createActor(taskMachine, { input: { taskId: `bg_${i}`, cancelGraceMs: 30_000 } })),
  supervisorWay: (total) => {
    const root = createEmptyActor();
    root.start();
    return timed(total, (i) => {
      const context = { taskId: `bg_${i}`, cancelGraceMs: 30_000 };
      return createActor(asGiven, {
        id: context.taskId,
        input: context,
        snapshot: { ...template, context },
        parent: root,
      });
    });
  },
};

async function spawnComplete(total) {
  const { supervisor, settled } = countingSupervisor(counter);
  const t0 = now();
  await spawnWaves(supervisor, settled, total, 1000);
  const rate = (total / (now() - t0)) * 1000;
  await supervisor.stop();
  return rate;
}

export async function run({ trials, scale }) {
  const total = Math.round(100_000 * scale);
  const rows = [];
  const vsMinimal = [
    ['taskMachine (createActor, as documented)', runs.createActor],
    ['taskMachine (as the supervisor runs it)', runs.supervisorWay],
    ['fromTransition actor', runs.fromTransition],
  ];
  for (const [label, ours] of vsMinimal) {
    const r = await interleave({
      trials,
      warmup: 1,
      baseline: async () => runs.minimal(total),
      ours: async () => ours(total),
    });
    rows.push(
      row({
        scenario: `16 create+start+settle ${total / 1000}k: ${label} vs minimal machine`,
        metric: 'throughput',
        unit: 'actors/s',
        better: 'higher',
        baselineLabel: 'minimal machine',
        oursLabel: label.split(' (')[0],
        ...r,
      }),
    );
  }
  const r = await interleave({
    trials,
    warmup: 1,
    baseline: async () => runs.supervisorWay(total),
    ours: () => spawnComplete(total),
  });
  rows.push(
    row({
      scenario: `16 supervisor spawn→complete ${total / 1000}k (waves of 1,000) vs its task actor alone`,
      metric: 'throughput',
      unit: 'tasks/s',
      better: 'higher',
      baselineLabel: 'task actor alone',
      oursLabel: 'supervisor',
      ...r,
      note: 'how close a whole task (record, body, terminal event) is to its XState actor',
    }),
  );
  return rows;
}
