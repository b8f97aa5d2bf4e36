import type { AnyActorScope, AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';

// The parts of XState's state nodes and transition definitions read here. They are public
// properties of `StateNode` and `TransitionDefinition`, typed loosely so this file does not depend on
// XState's deep generic parameters.
interface Node {
  readonly type: string;
  readonly order: number;
  readonly parent?: Node | undefined;
  readonly states: Record<string, Node>;
  readonly entry: readonly Action[];
  readonly exit: readonly Action[];
  readonly invoke: readonly unknown[];
  readonly always?: readonly unknown[] | undefined;
  readonly initial?: { readonly actions: readonly unknown[] } | undefined;
  readonly output?: unknown;
}
interface Transition {
  readonly source: Node;
  readonly target?: readonly Node[] | undefined;
  readonly actions: readonly Action[];
  readonly reenter: boolean;
}
/** An action as a machine config holds it: a name, `{ type, params }`, or a function (inline or built in). */
type Action = string | { readonly type: string; readonly params?: unknown } | ActionFn;
type ActionFn = ((...args: never[]) => unknown) & {
  readonly type?: string;
  readonly resolve?: unknown;
  readonly assignment?: unknown;
};
type Snapshot = AnyMachineSnapshot & { readonly _nodes: readonly Node[]; readonly historyValue: object };
type Transitioner = (snapshot: Snapshot, event: EventObject, scope: AnyActorScope) => Snapshot;
type Args = { context: unknown; event: EventObject; self: unknown; system: unknown };
type Fn = (args: Args, params: unknown) => unknown;

/** One action of a remembered transition, in the order XState runs them. */
type Step =
  | {
      readonly kind: 'assign';
      readonly assignment: Fn | Readonly<Record<string, unknown>>;
      readonly params: unknown;
    }
  | {
      readonly kind: 'exec';
      readonly type: string;
      readonly exec: ActionFn | undefined;
      readonly params: unknown;
    };

/** A remembered transition: the snapshot it leads to (but for its context), and its actions. */
interface Entry {
  readonly next: Snapshot;
  readonly steps: readonly Step[];
}

const empty = (o: object): boolean => {
  for (const _ in o) return false;
  return true;
};

/** Whether every state node of the machine is one the memo can reason about. */
function supported(root: Node): boolean {
  if (root.output !== undefined) return false;
  const walk = (node: Node): boolean => {
    if (node.type === 'parallel' || node.type === 'history') return false;
    if (node.always !== undefined && node.always.length > 0) return false;
    for (const key in node.states) if (!walk(node.states[key] as Node)) return false;
    return true;
  };
  return walk(root);
}

/**
 * How XState resolves one action (`resolveAndExecuteActionsWithContext`), when it is one the memo
 * can replay: a custom action (named, with params, or inline), or an `assign`. Any other built-in
 * action (raise, cancel, sendTo, enqueueActions, spawnChild…) makes the transition not remembered.
 */
function step(machine: AnyStateMachine, action: Action): Step | undefined {
  const inline = typeof action === 'function';
  const type = typeof action === 'string' ? action : action.type;
  const implementation = inline
    ? action
    : (machine.implementations.actions[type as string] as ActionFn | undefined);
  const params = inline || typeof action === 'string' ? undefined : action.params;
  if (implementation === undefined || !('resolve' in implementation))
    return {
      kind: 'exec',
      type: inline ? action.name || '(anonymous)' : (type as string),
      exec: implementation,
      params,
    };
  if (implementation.type !== 'xstate.assign') return undefined;
  const a = implementation.assignment;
  // An assign shaped otherwise (another XState version) is left to XState.
  if (typeof a !== 'function' && (typeof a !== 'object' || a === null)) return undefined;
  return { kind: 'assign', assignment: implementation.assignment as Step & object as never, params };
}

/**
 * What to remember of taking `t` from `prev` to `next` (XState's own result, in one microstep):
 * the snapshot it leads to and the actions it ran, when the rest of `next` is the same for every
 * snapshot `t` is taken from. That holds when `t` leaves an atomic state for states not yet
 * active, no child actor is started or stopped, no history is kept, nothing is left queued that
 * could take another transition (a final state below the root), and every action is replayable.
 */
function remember(machine: AnyStateMachine, t: Transition, prev: Snapshot, next: Snapshot): Entry | false {
  if (t.source.type !== 'atomic' || t.reenter || !t.target?.length) return false;
  if (next === prev || next.status === 'error') return false;
  if (!empty(prev.children) || !empty(next.children) || !empty(next.historyValue)) return false;
  if (!Array.isArray(prev._nodes) || !Array.isArray(next._nodes)) return false;
  const before = new Set(prev._nodes);
  const after = new Set(next._nodes);
  // A target already active is exited and entered again: the difference below would miss it. A
  // target not active afterwards means XState took another transition than `t` (a guard that
  // answered differently the second time): nothing to remember.
  for (const target of t.target) if (before.has(target) || !after.has(target)) return false;
  const exited = prev._nodes.filter((node) => !after.has(node)).sort((a, b) => b.order - a.order);
  const entered = next._nodes.filter((node) => !before.has(node)).sort((a, b) => a.order - b.order);
  for (const node of exited) if (node.invoke.length > 0) return false;
  for (const node of entered) {
    if (node.invoke.length > 0) return false;
    if (node.initial !== undefined && node.initial.actions.length > 0) return false;
    // Reaching a final state below the root raises `xstate.done.state.*`, which may take
    // transitions; a final state's `output` is evaluated on entry (and may throw).
    if (node.type === 'final' && (node.parent?.parent !== undefined || node.output !== undefined))
      return false;
  }
  if (next.status === 'done') {
    if (next.output !== undefined) return false;
    // Ending runs every remaining state's exit actions.
    for (const node of after) if (node.exit.length > 0) return false;
  }
  const steps: Step[] = [];
  for (const action of [...exited.flatMap((n) => n.exit), ...t.actions, ...entered.flatMap((n) => n.entry)]) {
    const s = step(machine, action);
    if (s === undefined) return false;
    steps.push(s);
  }
  // The context is each use's own: the first task's is not kept.
  return { next: { ...next, context: undefined } as Snapshot, steps };
}

/**
 * `remember`, where anything of XState's it cannot read as expected (a state node or snapshot
 * shaped by another XState version) means nothing is remembered: XState answers every time.
 */
function rememberSafely(
  machine: AnyStateMachine,
  t: Transition,
  prev: Snapshot,
  next: Snapshot,
): Entry | false {
  try {
    return remember(machine, t, prev, next);
  } catch {
    return false;
  }
}

/** Whether the actor system reports inspection events the way the memo does (see `inspect`). */
const canInspect = (scope: AnyActorScope): boolean =>
  typeof (scope.system as unknown as { _sendInspectionEvent?: unknown })._sendInspectionEvent === 'function';

/**
 * Whether `machine` has the parts of XState's machine API the memo calls. They are XState's own
 * (`getTransitionData`, `microstep`, `implementations`); a version without them is left to XState.
 */
function readable(machine: AnyStateMachine): boolean {
  const m = machine as unknown as Record<string, unknown> & { implementations?: { actions?: unknown } };
  return (
    typeof m.getTransitionData === 'function' &&
    typeof m.microstep === 'function' &&
    typeof m.transition === 'function' &&
    typeof m.implementations?.actions === 'object' &&
    m.implementations.actions !== null
  );
}

/** An `assign` replayed may not spawn: the memo keeps no child actors. */
const noSpawn = (): never => {
  throw new TypeError('A remembered transition cannot spawn an actor in `assign`');
};

/** Runs a remembered transition's actions as XState would: returns the context they leave. */
function replay(steps: readonly Step[], context: unknown, event: EventObject, scope: AnyActorScope): unknown {
  let current = context;
  for (const s of steps) {
    const info: Args = { context: current, event, self: scope.self, system: scope.system };
    const params =
      typeof s.params === 'function'
        ? (s.params as (a: object) => unknown)({ context: current, event })
        : s.params;
    if (s.kind === 'exec') {
      scope.actionExecutor({ type: s.type, info, params, exec: s.exec } as never);
      continue;
    }
    const args = { ...info, spawn: noSpawn };
    let partial: Record<string, unknown>;
    if (typeof s.assignment === 'function') partial = s.assignment(args, params) as Record<string, unknown>;
    else {
      partial = {};
      for (const key of Object.keys(s.assignment)) {
        const value = s.assignment[key];
        partial[key] = typeof value === 'function' ? (value as Fn)(args, params) : value;
      }
    }
    current = Object.assign({}, current, partial);
  }
  return current;
}

/** Reports a microstep to the system's inspectors, as XState's macrostep does for each one. */
function inspect(
  scope: AnyActorScope,
  event: EventObject,
  snapshot: Snapshot,
  transitions: readonly Transition[],
): void {
  (scope.system as unknown as { _sendInspectionEvent(e: object): void })._sendInspectionEvent({
    type: '@xstate.microstep',
    actorRef: scope.self,
    event,
    snapshot,
    _transitions: transitions,
  });
}

/**
 * A `transition` for `machine` that remembers, per transition definition, what XState computed
 * the first time it was taken (the snapshot it led to, and the actions it ran) when that is the
 * same every time but for the context (see `remember`), and from then on answers by running the
 * same actions (custom actions through the actor's executor, `assign`s on the context) and giving
 * the remembered snapshot the resulting context, after evaluating the guards as XState does
 * (`getTransitionData`). Everything else goes through XState's own macrostep. An event that no
 * transition accepts leaves the snapshot as it is, as XState does for a machine without eventless
 * transitions.
 *
 * A task settles through one such transition (`running.active` → `completed`) and is cancelled
 * through another (`active` → `cancelling`): most of what a spawned task's actor does. XState's
 * microstep recomputes exit and entry sets, the state value and its tags each time (about a third
 * of a task's cost). The machine still defines every state, transition and action: the memo only
 * replays XState's answers.
 *
 * Returns `undefined` when the machine has parallel or history states, eventless transitions or an
 * output, which this memo does not reason about. Two things XState asks of a machine the memo
 * relies on: guards are pure (they are evaluated again on a remembered transition, and the first
 * answer is only remembered when XState's macrostep reached `t`'s targets), and an `assign` on a
 * remembered transition does not spawn (one that did not the first time is remembered; a later
 * spawn from it fails the actor with a `TypeError` saying so). The task machine's guards read only
 * the event and its `assign`s only compute values. Parts of XState it reads beyond the public API
 * (a snapshot's active nodes, the system's inspection call) are checked where read: a version of
 * XState where they differ gets no memo, and XState answers every event.
 */
export function memoizedTransition(machine: AnyStateMachine): Transitioner | undefined {
  if (!readable(machine) || !supported(machine.root as unknown as Node)) return undefined;
  const base = machine.transition.bind(machine) as unknown as Transitioner;
  const microsteps = machine.microstep.bind(machine) as unknown as (
    ...args: Parameters<Transitioner>
  ) => readonly Snapshot[];
  const memo = new Map<Transition, Entry | false>();
  return (snapshot, event, scope) => {
    // XState's own events (stop, init, a child's error: which ends the machine when no transition
    // takes it) and a snapshot with children or not active go its own way.
    const type = event.type;
    if (
      snapshot.status !== 'active' ||
      type === 'xstate.stop' ||
      type === 'xstate.init' ||
      type.startsWith('xstate.error.') ||
      !empty(snapshot.children)
    )
      return base(snapshot, event, scope);
    const transitions = machine.getTransitionData(snapshot, event) as unknown as readonly Transition[];
    if (transitions.length === 0) {
      // XState reports an event no transition takes as a microstep that changed nothing.
      if (!canInspect(scope)) return base(snapshot, event, scope);
      inspect(scope, event, snapshot, transitions);
      return snapshot;
    }
    if (transitions.length > 1) return base(snapshot, event, scope);
    const t = transitions[0] as Transition;
    const known = memo.get(t);
    if (known === undefined) {
      // The first time, XState's macrostep with its microsteps: a transition is only remembered
      // when it was the whole macrostep (nothing it raised took another transition).
      const steps = microsteps(snapshot, event, scope);
      const next = steps[steps.length - 1] ?? snapshot;
      memo.set(
        t,
        steps.length === 1 && canInspect(scope) ? rememberSafely(machine, t, snapshot, next) : false,
      );
      return next;
    }
    if (known === false) return base(snapshot, event, scope);
    const context =
      known.steps.length === 0 ? snapshot.context : replay(known.steps, snapshot.context, event, scope);
    const next = { ...known.next, context } as Snapshot;
    inspect(scope, event, next, transitions);
    return next;
  };
}
