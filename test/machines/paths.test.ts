/**
 * Every path of both machines, from @xstate/graph, replayed on real actors (and, for the task
 * machine, on a real supervisor's task); and a guard: the machines' transitions must equal the
 * checked-in list, each covered by a replayed path — a new transition without a test fails here.
 */
import { getShortestPaths, getSimplePaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, type AnyStateNode, createActor, type StateValue } from 'xstate';
import {
  createTaskSupervisor,
  supervisorMachine,
  TaskResult,
  taskMachine,
  type TaskMachineEvent,
} from '../../src/index.js';
import { Puppet, type ModelOutcome } from '../../src/testing/index.js';
import { until } from '../helpers/async.js';

const GRACE = 'xstate.after.cancelGrace.task.running.cancelling';
const DEADLINE = 'xstate.after.deadline.task.running.active';
const outcomes: Record<string, ModelOutcome> = {
  completed: { kind: 'success', value: null },
  failed: { kind: 'failure', error: 'failed' },
  cancelled: { kind: 'cancelled' },
  threw: { kind: 'throw', message: 'thrown' },
};
const TASK_EVENTS: Record<string, TaskMachineEvent> = {
  'task.cancel': { type: 'task.cancel' },
  'task.settled:completed': {
    type: 'task.settled',
    outcome: { type: 'returned', result: TaskResult.success(null) },
  },
  'task.settled:failed': {
    type: 'task.settled',
    outcome: { type: 'returned', result: TaskResult.failed('failed') },
  },
  'task.settled:cancelled': {
    type: 'task.settled',
    outcome: { type: 'returned', result: TaskResult.cancelled() },
  },
  'task.settled:threw': { type: 'task.settled', outcome: { type: 'threw', error: 'thrown' } },
  'task.queue': { type: 'task.queue' },
  'task.retry': { type: 'task.retry' },
  // XState's delayed event: sending it is the grace timer firing.
  'after:cancelGrace': { type: GRACE } as unknown as TaskMachineEvent,
  // The same for a spawn's `timeoutMs` deadline.
  'after:deadline': { type: DEADLINE } as unknown as TaskMachineEvent,
  'task.start': { type: 'task.start' },
  'task.input.requested': { type: 'task.input.requested' },
  'task.input.provided': { type: 'task.input.provided' },
};
const SUPERVISOR_EVENTS = {
  'supervisor.stop': { type: 'supervisor.stop' },
  'supervisor.drained': { type: 'supervisor.drained' },
} as const;
const INPUT = { taskId: 'bg_0', cancelGraceMs: 30_000 };

const dotted = (v: StateValue): string =>
  typeof v === 'string'
    ? v
    : Object.entries(v)
        .map(([k, c]) => (c === undefined ? k : `${k}.${dotted(c as StateValue)}`))
        .join(',');
const nameOf = (events: Record<string, object>, e: object): string =>
  Object.entries(events).find(([, x]) => JSON.stringify(x) === JSON.stringify(e))?.[0] ?? JSON.stringify(e);

/** Every (state, event, guard) → target of a machine definition, written `state --event[guard]--> target`. */
function transitionsOf(machine: AnyStateMachine): string[] {
  const out: string[] = [];
  const visit = (node: AnyStateNode): void => {
    for (const [event, defs] of node.transitions) {
      for (const d of defs) {
        const guard =
          d.guard === undefined
            ? ''
            : `[${typeof d.guard === 'string' ? d.guard : (d.guard as { type: string }).type}]`;
        out.push(
          `${node.id} --${event}${guard}--> ${(d.target ?? []).map((t: AnyStateNode) => t.id).join(',')}`,
        );
      }
    }
    for (const child of Object.values(node.states)) visit(child as AnyStateNode);
  };
  visit(machine.root);
  return out.sort();
}

/** Which transition a replayed step took: same source (or ancestor), event and target. */
function taken(machine: AnyStateMachine, from: string, event: string, to: string): string | undefined {
  return transitionsOf(machine).find((t) => {
    const [src, rest] = t.split(' --');
    const [ev, target] = rest!.split('--> ');
    const evType = ev!.replace(/\[.*\]$/, '');
    return (
      `${machine.id}.${from}`.startsWith(src!) &&
      evType === event &&
      `${machine.id}.${to}`.startsWith(target!)
    );
  });
}

const TASK_TRANSITIONS = [
  `task.queued --task.cancel--> task.cancelled`,
  `task.queued --task.start--> task.running`,
  `task.running.active --task.input.requested--> task.running.waiting`,
  `task.running.waiting --task.cancel--> task.running.cancelling`,
  `task.running.waiting --task.input.provided--> task.running.active`,
  `task.running.waiting --task.settled--> task.failed`,
  `task.running.waiting --task.settled[returnedCancelled]--> task.cancelled`,
  `task.running.waiting --task.settled[returnedSuccess]--> task.completed`,
  `task.running.active --task.cancel--> task.running.cancelling`,
  `task.running.active --${DEADLINE}--> task.running.cancelling`,
  `task.running.active --task.settled--> task.failed`,
  `task.running.active --task.settled[returnedCancelled]--> task.cancelled`,
  `task.running.active --task.settled[returnedSuccess]--> task.completed`,
  `task.running.cancelling --${GRACE}--> task.cancelled`,
  `task.running.cancelling --task.settled--> task.cancelled`,
  `task.running.cancelling --task.settled[returnedFailure]--> task.failed`,
  `task.running.cancelling --task.settled[returnedSuccess]--> task.completed`,
  // Durable tasks: a delayed start and the wait between attempts.
  `task.running.active --task.queue--> task.queued`,
  `task.running.active --task.retry--> task.retrying`,
  `task.retrying --task.start--> task.running`,
  `task.retrying --task.queue--> task.queued`,
  `task.retrying --task.cancel--> task.cancelled`,
].sort();
const SUPERVISOR_TRANSITIONS = [
  'supervisor.active --supervisor.stop--> supervisor.stopping',
  'supervisor.stopping --supervisor.drained--> supervisor.stopped',
];

/** A task actor restored in `queued`, as the supervisor creates a task that waits for a slot. */
const QUEUED = { value: 'queued', context: { taskId: 'bg_0', cancelGraceMs: 30_000 } };
const queuedSnapshot = (): ReturnType<typeof taskMachine.resolveState> => taskMachine.resolveState(QUEUED);

describe.each([
  {
    name: 'taskMachine',
    machine: taskMachine as AnyStateMachine,
    events: TASK_EVENTS,
    input: INPUT,
    expected: TASK_TRANSITIONS,
    fromQueued: true,
  },
  {
    name: 'supervisorMachine',
    machine: supervisorMachine as AnyStateMachine,
    events: SUPERVISOR_EVENTS,
    input: undefined,
    expected: SUPERVISOR_TRANSITIONS,
    fromQueued: false,
  },
])('$name paths', ({ machine, events, input, expected, fromQueued }) => {
  const opts = { events: Object.values(events), input };
  // Paths from the initial state, and (task machine) from `queued`, where a task waiting for a slot starts.
  const simple = [
    ...getSimplePaths(machine, opts),
    ...(fromQueued ? getSimplePaths(machine, { ...opts, fromState: queuedSnapshot() as never }) : []),
  ];
  const shortest = getShortestPaths(machine, opts);

  it('the transitions of the definition are exactly the checked-in list', () => {
    expect(transitionsOf(machine)).toEqual(expected);
  });

  it('every simple and shortest path, replayed on a real actor, ends in the state the graph says and covers every transition', () => {
    expect(simple.length).toBeGreaterThan(0);
    const covered = new Set<string>();
    for (const path of [...simple, ...shortest]) {
      const first = path.steps[0]?.state.value;
      const actor = (
        first === 'queued'
          ? createActor(machine, { input, snapshot: queuedSnapshot() as never })
          : createActor(machine, { input })
      ).start();
      for (const step of path.steps) {
        if (step.event.type === 'xstate.init') continue;
        const from = dotted(actor.getSnapshot().value);
        actor.send(step.event);
        const t = taken(machine, from, step.event.type, dotted(actor.getSnapshot().value));
        if (t !== undefined) covered.add(t);
      }
      const named = path.steps
        .filter((s) => s.event.type !== 'xstate.init')
        .map((s) => nameOf(events, s.event));
      const trail = named.join(' → ');
      expect(trail, 'every step is one of the listed events').not.toMatch(/"type"/);
      expect(dotted(actor.getSnapshot().value), trail).toBe(dotted(path.state.value));
      // One more event from each simple path's end reaches the back edges (a durable task's
      // `retrying → running`), which no simple path can take.
      const end = actor.getSnapshot();
      actor.stop();
      for (const extra of Object.values(events)) {
        const again = createActor(machine, { input, snapshot: end }).start();
        const from = dotted(again.getSnapshot().value);
        again.send(extra);
        const t = taken(machine, from, extra.type, dotted(again.getSnapshot().value));
        if (t !== undefined) covered.add(t);
        again.stop();
      }
    }
    // Simple paths never revisit a state: the loop back from `waiting` to `active` is replayed here.
    if (fromQueued) {
      const actor = createActor(machine, { input }).start();
      for (const type of ['task.input.requested', 'task.input.provided', 'task.input.requested']) {
        const from = dotted(actor.getSnapshot().value);
        actor.send({ type });
        const t = taken(machine, from, type, dotted(actor.getSnapshot().value));
        if (t !== undefined) covered.add(t);
      }
      expect(dotted(actor.getSnapshot().value)).toBe('running.waiting');
      actor.stop();
    }
    expect([...covered].sort()).toEqual(expected);
  });
});

describe('taskMachine paths on a real supervisor', () => {
  const toOutcome = (name: string): ModelOutcome => outcomes[name.split(':')[1]!]!;
  // A plain task never queues or retries: those paths belong to durable tasks (test/durable).
  const plainEvents = Object.values(TASK_EVENTS).filter(
    (e) => e.type !== 'task.queue' && e.type !== 'task.retry' && e.type !== 'task.start',
  );
  const paths = getSimplePaths(taskMachine, { events: plainEvents, input: INPUT });

  it.each(
    paths.map((p) => {
      const trail = p.steps
        .filter((s) => (s.event.type as string) !== 'xstate.init')
        .map((s) => nameOf(TASK_EVENTS, s.event));
      return { trail, label: trail.join(' → '), state: dotted(p.state.value) };
    }),
  )('[$label] ends $state', async ({ trail, state }) => {
    // The grace timer really fires (grace 0) on the path that takes it; elsewhere it never does.
    const sup = createTaskSupervisor({
      cancelGraceMs: trail.includes('after:cancelGrace') ? 0 : 2_000_000_000,
    });
    const puppet = new Puppet(false, false, 'cancelled', () => sup);
    // The deadline really passes (timeoutMs 0) on the paths that take it; elsewhere there is none.
    const deadline = trail.includes('after:deadline');
    const id = await sup.spawn(
      { threadId: 't', taskType: 'x', description: '', ...(deadline ? { timeoutMs: 0 } : {}) },
      puppet.body(),
    );
    for (const name of trail) {
      if (name === 'task.cancel') expect(sup.cancel(id)).toBe(true);
      else if (name === 'after:deadline')
        await until(
          () => dotted(sup.taskActor(id)?.getSnapshot().value ?? 'gone') === 'running.cancelling',
          5_000,
          'the deadline',
        );
      else if (name === 'after:cancelGrace') await sup.wait(id);
      else if (name === 'task.input.requested') await puppet.instruct({ kind: 'request', request: 'q?' });
      else if (name === 'task.input.provided') {
        expect(sup.provideInput(id, 'yes')).toBe(true);
        await until(() => puppet.responses.length > 0, 5_000, 'the answer');
      } else {
        await puppet.instruct({ kind: 'settle', outcome: toOutcome(name) });
        await sup.wait(id);
      }
    }
    const live = sup.taskActor(id);
    expect(
      live === undefined ? sup.get(id)!.status : `running.${dotted(live.getSnapshot().value).split('.')[1]}`,
    ).toBe(state);
    puppet.abandon();
    await sup.stop();
  });
});
