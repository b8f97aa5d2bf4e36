import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnyStateMachine,
  assign,
  createActor,
  createMachine,
  emit,
  fromPromise,
  raise,
  setup,
} from 'xstate';
import {
  DEADLINE_EVENT,
  GRACE_EVENT,
  type TaskMachineEvent,
  taskMachine,
} from '../../machines/task.machine.js';
import { memoizedTransition } from '../../src/supervisor/transitionMemo.js';
import { TaskResult } from '../../src/wire/taskResult.js';
import { assertWithSeed, runsFor } from '../property/seed.js';

const RUNS = runsFor(300);

/** `machine` with the memo as its transition (as the supervisor's task actors run it). */
function memoized<M extends AnyStateMachine>(machine: M): M {
  const transition = memoizedTransition(machine);
  if (transition === undefined) throw new Error('machine not supported by the memo');
  return Object.create(machine, { transition: { value: transition } }) as M;
}

/** The task machine with every action recorded in `log`, so runs can be compared action by action. */
function recordingTaskMachine(log: string[]) {
  // Each action logs the context it saw: a replayed action must see what XState would give it.
  const note =
    (name: string) =>
    ({ context }: { context: object }) => {
      log.push(`${name} ${JSON.stringify(context)}`);
    };
  return taskMachine.provide({
    actions: {
      abortBody: note('abortBody'),
      armDeadline: note('armDeadline'),
      disarmDeadline: note('disarmDeadline'),
      armGrace: note('armGrace'),
    },
  });
}

const settled = (outcome: 'completed' | 'failed' | 'cancelled' | 'threw'): TaskMachineEvent => ({
  type: 'task.settled',
  outcome:
    outcome === 'threw'
      ? { type: 'threw', error: 'boom' }
      : {
          type: 'returned',
          result:
            outcome === 'completed'
              ? TaskResult.success(1)
              : outcome === 'failed'
                ? TaskResult.failed('no')
                : TaskResult.cancelled(),
        },
});

const taskEvent = fc.oneof(
  fc.constantFrom('user', 'parent', 'timeout', undefined).map((reason) => ({ type: 'task.cancel', reason })),
  fc.constantFrom('completed', 'failed', 'cancelled', 'threw' as const).map(settled),
  fc.constantFrom(
    { type: 'task.queue' },
    { type: 'task.retry' },
    { type: 'task.start' },
    { type: 'task.input.provided' },
    { type: DEADLINE_EVENT },
    { type: GRACE_EVENT },
    { type: 'task.unknown' },
  ),
  fc.nat(50).map((activeMs) => ({ type: 'task.input.requested', activeMs })),
);

/** What of a snapshot the memo must reproduce exactly. */
function seen(snapshot: ReturnType<ReturnType<typeof createActor<AnyStateMachine>>['getSnapshot']>) {
  return {
    value: snapshot.value,
    status: snapshot.status,
    context: snapshot.context,
    output: snapshot.output,
    nodes: (snapshot as unknown as { _nodes: { id: string }[] })._nodes.map((n) => n.id),
    tags: [...snapshot.tags],
    children: Object.keys(snapshot.children),
    canSettle: snapshot.can(settled('completed') as never),
  };
}

describe('memoized task transitions', () => {
  it('R-perf: any run of task-machine events ends in the same snapshots and actions as XState computes them', async () => {
    // Both machines share one memo across all runs (as the supervisor's actors do), so later runs
    // are answered from transitions remembered in earlier ones.
    const plainLog: string[] = [];
    const memoLog: string[] = [];
    const plain = recordingTaskMachine(plainLog);
    const fast = memoized(recordingTaskMachine(memoLog));
    let run = 0;
    await assertWithSeed(
      'transition memo ≡ XState',
      fc.asyncProperty(
        fc.boolean(),
        fc.option(fc.constantFrom(0, 10, 100), { nil: undefined }),
        fc.array(taskEvent, { maxLength: 12 }),
        async (queued, timeoutMs, events) => {
          plainLog.length = 0;
          memoLog.length = 0;
          const input = { taskId: `t${run++}`, cancelGraceMs: 5, timeoutMs };
          const a = createActor(plain, { input });
          const b = createActor(fast, { input });
          a.start();
          b.start();
          if (queued) {
            // Into `queued` the way a durable task gets there: running.active → task.queue.
            a.send({ type: 'task.queue' });
            b.send({ type: 'task.queue' });
          }
          expect(seen(b.getSnapshot())).toEqual(seen(a.getSnapshot()));
          for (const event of events) {
            // An ended actor takes no events (XState warns about each one sent).
            if (a.getSnapshot().status !== 'active') break;
            const before = b.getSnapshot();
            const beforeSeen = seen(before);
            a.send(event as TaskMachineEvent);
            b.send(event as TaskMachineEvent);
            expect(seen(b.getSnapshot())).toEqual(seen(a.getSnapshot()));
            // Snapshots are immutable: the one held before the event did not change.
            expect(seen(before)).toEqual(beforeSeen);
          }
          expect(memoLog).toEqual(plainLog);
          a.stop();
          b.stop();
        },
      ),
      RUNS,
    );
  });

  it('R-perf: actors sharing a remembered transition each keep their own context', () => {
    const machine = memoized(taskMachine);
    const actors = ['a', 'b', 'c'].map((taskId) =>
      createActor(machine, { input: { taskId, cancelGraceMs: 1 } }).start(),
    );
    for (const actor of actors) actor.send(settled('completed'));
    expect(actors.map((a) => [a.getSnapshot().value, a.getSnapshot().context.taskId])).toEqual([
      ['completed', 'a'],
      ['completed', 'b'],
      ['completed', 'c'],
    ]);
    expect(actors.every((a) => a.getSnapshot().status === 'done')).toBe(true);
  });

  it('R-perf: a remembered transition runs its entry actions every time', () => {
    let entered = 0;
    const machine = setup({ actions: { count: () => void entered++ } }).createMachine({
      initial: 'a',
      states: { a: { on: { go: 'b' } }, b: { entry: 'count', on: { back: 'a' } } },
    });
    const actor = createActor(memoized(machine)).start();
    for (let i = 0; i < 5; i++) {
      actor.send({ type: 'go' });
      actor.send({ type: 'back' });
    }
    expect(entered).toBe(5);
    expect(actor.getSnapshot().value).toBe('a');
  });

  it('R-perf: a remembered transition applies its context assignment every time, before the entry actions see it', () => {
    const seen: string[] = [];
    const machine = setup({
      types: {} as { context: { n: number } },
      actions: {
        see: ({ context }, params: { tag: string }) => void seen.push(`${params.tag}${context.n}`),
      },
    }).createMachine({
      context: { n: 0 },
      initial: 'a',
      states: {
        a: {
          exit: { type: 'see', params: { tag: 'exit' } },
          on: { go: { target: 'b', actions: assign({ n: ({ context }) => context.n + 1 }) } },
        },
        b: {
          entry: [
            { type: 'see', params: ({ context }) => ({ tag: `entry(${context.n})` }) },
            assign(({ context }) => ({ n: context.n * 10 })),
          ],
          on: { back: 'a' },
        },
      },
    });
    const actor = createActor(memoized(machine)).start();
    for (let i = 0; i < 3; i++) {
      actor.send({ type: 'go' });
      actor.send({ type: 'back' });
    }
    // n: 0 → 1 → 10 → 11 → 110 → 111 → 1110; each action sees the context left by the one before.
    expect(actor.getSnapshot().context.n).toBe(1110);
    expect(seen).toEqual(['exit0', 'entry(1)1', 'exit10', 'entry(11)11', 'exit110', 'entry(111)111']);
  });

  it("R-perf: reaching a nested final state still takes the parent's done transition every time", () => {
    let done = 0;
    const machine = setup({ actions: { done: () => void done++ } }).createMachine({
      initial: 'outer',
      states: {
        outer: {
          initial: 'work',
          states: { work: { on: { finish: 'end' } }, end: { type: 'final' } },
          onDone: { target: 'after', actions: 'done' },
        },
        after: { on: { again: 'outer' } },
      },
    });
    const actor = createActor(memoized(machine)).start();
    for (let i = 0; i < 3; i++) {
      actor.send({ type: 'finish' });
      expect(actor.getSnapshot().value).toBe('after');
      actor.send({ type: 'again' });
    }
    expect(done).toBe(3);
  });

  it('R-perf: a transition running another built-in action (emit, raise) is left to XState', () => {
    const machine = createMachine({
      initial: 'a',
      states: {
        a: { on: { go: 'b' } },
        b: { entry: [emit({ type: 'entered' }), raise({ type: 'bounce' })], on: { bounce: 'a' } },
      },
    });
    const actor = createActor(memoized(machine)).start();
    let emitted = 0;
    actor.on('entered', () => void emitted++);
    for (let i = 0; i < 3; i++) {
      actor.send({ type: 'go' });
      expect(actor.getSnapshot().value).toBe('a');
    }
    expect(emitted).toBe(3);
  });

  it('R-perf: an invoked child is started on every entry', async () => {
    let started = 0;
    const machine = setup({
      actors: { job: fromPromise(async () => void started++) },
    }).createMachine({
      initial: 'idle',
      states: { idle: { on: { go: 'busy' } }, busy: { invoke: { src: 'job' }, on: { stop: 'idle' } } },
    });
    const actor = createActor(memoized(machine)).start();
    for (let i = 0; i < 3; i++) {
      actor.send({ type: 'go' });
      expect(Object.keys(actor.getSnapshot().children)).toHaveLength(1);
      actor.send({ type: 'stop' });
      expect(Object.keys(actor.getSnapshot().children)).toHaveLength(0);
    }
    await Promise.resolve();
    expect(started).toBe(3);
  });

  it('R-perf: a machine with eventless transitions, parallel states or an output is left to XState', () => {
    const always = createMachine({ initial: 'a', states: { a: { always: 'b' }, b: {} } });
    const parallel = createMachine({ type: 'parallel', states: { x: {}, y: {} } });
    const output = createMachine({ initial: 'a', output: 1, states: { a: { type: 'final' } } });
    expect(memoizedTransition(always)).toBeUndefined();
    expect(memoizedTransition(parallel)).toBeUndefined();
    expect(memoizedTransition(output)).toBeUndefined();
    expect(memoizedTransition(taskMachine)).toBeTypeOf('function');
  });

  it('R-perf: an XState without the machine API the memo calls (another version) is left to XState', () => {
    for (const part of ['getTransitionData', 'microstep', 'implementations']) {
      const other = Object.create(taskMachine, { [part]: { value: undefined } }) as AnyStateMachine;
      expect(memoizedTransition(other), part).toBeUndefined();
    }
  });

  it("R-perf: the first cancel goes through XState's macrostep, later ones are replayed without XState's transition", () => {
    // Counts which of XState's paths answer each event: its macrostep (a transition taken the first
    // time), its plain transition (never remembered), or neither (a remembered one, replayed).
    const calls: string[] = [];
    const machine = recordingTaskMachine([]);
    const counted = Object.create(machine, {
      microstep: {
        value: (...a: unknown[]) => {
          calls.push('microstep');
          return machine.microstep(...(a as [never, never, never]));
        },
      },
      transition: {
        value: (...a: unknown[]) => {
          calls.push('transition');
          return machine.transition(...(a as [never, never, never]));
        },
      },
    }) as AnyStateMachine;
    // One memo for every actor, as the supervisor's task actors share one.
    const fast = memoized(counted);
    const actors = ['a', 'b', 'c'].map((taskId) =>
      createActor(fast, { input: { taskId, cancelGraceMs: 1 } }).start(),
    );
    const perCancel = actors.map((actor) => {
      calls.length = 0;
      actor.send({ type: 'task.cancel' });
      expect(actor.getSnapshot().value).toEqual({ running: 'cancelling' });
      const took = [...calls];
      actor.stop();
      return took;
    });
    expect(perCancel).toEqual([['microstep'], [], []]);
  });

  it('R-perf: inspectors see the same microsteps as from XState, an event no transition takes included', () => {
    const run = (machine: AnyStateMachine) => {
      const steps: unknown[] = [];
      for (const taskId of ['a', 'b']) {
        const actor = createActor(machine, {
          input: { taskId, cancelGraceMs: 1 },
          inspect: (e) => {
            if (e.type !== '@xstate.microstep') return;
            const step = e as unknown as { snapshot: { value: unknown }; _transitions: unknown[] };
            steps.push([taskId, step.snapshot.value, step._transitions.length]);
          },
        }).start();
        // The second cancel and the grace event after the body settled find no transition.
        actor.send({ type: 'task.cancel', reason: 'user' });
        actor.send({ type: 'task.cancel' });
        actor.send(settled('cancelled'));
      }
      return steps;
    };
    const plain = run(taskMachine.provide({ actions: { abortBody: () => {} } }));
    expect(run(memoized(taskMachine.provide({ actions: { abortBody: () => {} } })))).toEqual(plain);
    expect(plain).toContainEqual(['b', { running: 'cancelling' }, 0]);
  });

  it("R-perf: a final state's output is evaluated on every entry, as XState does", () => {
    const machine = createMachine({
      types: {} as { context: { bad: boolean }; input: { bad: boolean } },
      context: ({ input }) => ({ bad: input.bad }),
      initial: 'a',
      states: {
        a: { on: { go: 'end' } },
        end: {
          type: 'final',
          output: ({ context }) => {
            if (context.bad) throw new Error('bad output');
            return 1;
          },
        },
      },
    });
    const fast = memoized(machine);
    const results = [false, true].map((bad) => {
      const actor = createActor(fast, { input: { bad } });
      actor.subscribe({ error: () => {} });
      actor.start();
      actor.send({ type: 'go' });
      return actor.getSnapshot().status;
    });
    expect(results).toEqual(['done', 'error']);
  });

  it('R-perf: an assign that spawns on a remembered transition fails the actor, saying why (a documented limit)', () => {
    const machine = setup({
      types: {} as { context: { ref?: unknown }; events: { type: 'go'; spawn?: boolean } },
      actors: { job: fromPromise(async () => 1) },
    }).createMachine({
      context: {},
      initial: 'a',
      states: {
        a: {
          on: {
            go: {
              target: 'b',
              actions: assign(({ event, spawn }) => (event.spawn ? { ref: spawn('job') } : {})),
            },
          },
        },
        b: {},
      },
    });
    const fast = memoized(machine);
    createActor(fast).start().send({ type: 'go' });
    const second = createActor(fast);
    let error: unknown;
    second.subscribe({ error: (e) => void (error = e) });
    second.start().send({ type: 'go', spawn: true });
    expect(second.getSnapshot().status).toBe('error');
    expect(String(error)).toMatch(/cannot spawn an actor in `assign`/);
  });

  it('R-perf: inspectors see each remembered transition as a microstep, as XState reports it', () => {
    const machine = memoized(taskMachine);
    const steps: unknown[] = [];
    for (const taskId of ['a', 'b']) {
      const actor = createActor(machine, {
        input: { taskId, cancelGraceMs: 1 },
        inspect: (e) => {
          if (e.type === '@xstate.microstep')
            steps.push([taskId, (e as unknown as { snapshot: { value: unknown } }).snapshot.value]);
        },
      }).start();
      actor.send(settled('failed'));
    }
    // The first actor's settle computed by XState, the second's remembered.
    expect(steps).toEqual(
      expect.arrayContaining([
        ['a', 'failed'],
        ['b', 'failed'],
      ]),
    );
  });
});
