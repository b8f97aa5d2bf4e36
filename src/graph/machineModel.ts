/**
 * A plain, JSON-safe model of any XState v5 machine's state nodes and transitions, the common
 * source of the Mermaid, DOT and JSON renderings.
 */
import type { AnyStateMachine } from 'xstate';

/** A state node of a machine graph. */
export interface MachineGraphNode {
  /** The state node id, e.g. `task.running.cancelling`. */
  id: string;
  /** The key within its parent, e.g. `cancelling`; the machine id for the root. */
  key: string;
  /** Dotted path from the root, e.g. `running.cancelling`; `''` for the root. */
  path: string;
  /** The parent's id; absent for the root. */
  parent?: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Id of the initial child (compound states). */
  initial?: string;
  /** `shallow` or `deep` (history states). */
  history?: 'shallow' | 'deep';
  entry: string[];
  exit: string[];
  /** Ids of the actors this state invokes. */
  invoke: string[];
  tags: string[];
  description?: string;
}

/** What kind of trigger a transition has. */
export type MachineEdgeKind = 'event' | 'after' | 'always' | 'done' | 'error';

/** One transition to one target (a multi-target transition makes one edge per target). */
export interface MachineGraphEdge {
  source: string;
  /** The target's id; the source's own id for a targetless transition (`internal: true`). */
  target: string;
  /** The raw XState event type (`''` for `always`). */
  event: string;
  kind: MachineEdgeKind;
  /** A readable label: `task.cancel`, `task.settled [returnedSuccess]`, `after cancelGrace`, `always`. */
  label: string;
  guard?: string;
  /** The `after` delay: its name, or milliseconds. */
  delay?: string | number;
  /** Targetless: runs actions without leaving the state. */
  internal: boolean;
  actions: string[];
}

/** The JSON graph of a machine, what `toGraphJson` returns. */
export interface MachineGraphJson {
  id: string;
  nodes: MachineGraphNode[];
  edges: MachineGraphEdge[];
}

/** The parts of a v5 `StateNode` this module reads (typed loosely: any machine goes). */
interface StateNodeLike {
  id: string;
  key: string;
  path: string[];
  type: MachineGraphNode['type'];
  history?: false | 'shallow' | 'deep';
  states: Record<string, StateNodeLike>;
  initial?: { target: readonly StateNodeLike[] };
  entry: readonly unknown[];
  exit: readonly unknown[];
  invoke: ReadonlyArray<{ id: string }>;
  tags: readonly string[];
  description?: string;
  transitions?: Map<string, readonly TransitionLike[]>;
  always?: readonly TransitionLike[];
}
interface TransitionLike {
  eventType: string;
  target?: readonly StateNodeLike[];
  guard?: unknown;
  delay?: unknown;
  actions: readonly unknown[];
}

/**
 * A readable name for a guard: its name for a named guard, `and(a, not(b))` for XState's
 * higher-order guards, `guard` for an anonymous inline one.
 *
 * @example
 * guardName('isReady'); // 'isReady'
 */
export function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const g = guard as { name?: string; guards?: unknown };
    if (Array.isArray(g.guards)) return `${g.name || 'guard'}(${g.guards.map(guardName).join(', ')})`;
    if (typeof g.guards === 'string' || typeof g.guards === 'function')
      return `${g.name}(${guardName(g.guards)})`;
    return g.name || 'guard';
  }
  if (guard && typeof guard === 'object' && 'type' in guard) return String((guard as { type: unknown }).type);
  return 'guard';
}

function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (action && (typeof action === 'object' || typeof action === 'function')) {
    const a = action as { type?: unknown; name?: string };
    if (typeof a.type === 'string') return a.type;
    if (a.name) return a.name;
  }
  return 'action';
}

/** The raise/cancel pair XState adds to a state for its own `after` timers: not user actions. */
function isAfterPlumbing(action: unknown): boolean {
  const a = action as { type?: unknown; id?: unknown; sendId?: unknown } | null;
  const id = a?.type === 'xstate.raise' ? a.id : a?.type === 'xstate.cancel' ? a.sendId : undefined;
  return typeof id === 'string' && id.startsWith('xstate.after.');
}

const actionNames = (actions: readonly unknown[]): string[] =>
  actions.filter((a) => !isAfterPlumbing(a)).map(actionName);

function trigger(t: TransitionLike): { kind: MachineEdgeKind; text: string; delay?: string | number } {
  const e = t.eventType;
  if (e === '') return { kind: 'always', text: 'always' };
  if (e.startsWith('xstate.after.')) {
    const d = t.delay;
    const delay = typeof d === 'number' || typeof d === 'string' ? d : (e.split('.')[2] ?? 'delay');
    return { kind: 'after', text: `after ${typeof delay === 'number' ? `${delay}ms` : delay}`, delay };
  }
  if (e.startsWith('xstate.done.state.')) return { kind: 'done', text: 'done' };
  if (e.startsWith('xstate.done.actor.')) return { kind: 'done', text: `done: ${e.slice(18)}` };
  if (e.startsWith('xstate.error.actor.')) return { kind: 'error', text: `error: ${e.slice(19)}` };
  return { kind: 'event', text: e };
}

/**
 * Reads any XState v5 machine into a {@link MachineGraphJson}: every state node (nested,
 * parallel, final, history), and every transition per target — `on` events, guarded branches,
 * `after` delays, `always`, `onDone`/`onError`, and targetless ones as self-loops. It walks the
 * state nodes the way `@xstate/graph`'s `toDirectedGraph` does, and also covers what that skips
 * (`always` transitions) or throws on (history states).
 *
 * @example
 * const g = machineGraph(taskMachine);
 * g.edges.find((e) => e.kind === 'after')?.label; // 'after cancelGrace'
 */
export function machineGraph(machine: AnyStateMachine): MachineGraphJson {
  const root = machine.root as unknown as StateNodeLike;
  const nodes: MachineGraphNode[] = [];
  const edges: MachineGraphEdge[] = [];
  const visit = (sn: StateNodeLike, parent: string | undefined): void => {
    const initial = sn.type === 'compound' ? sn.initial?.target[0]?.id : undefined;
    nodes.push({
      id: sn.id,
      key: sn.key,
      path: sn.path.join('.'),
      ...(parent === undefined ? {} : { parent }),
      type: sn.type,
      ...(initial === undefined ? {} : { initial }),
      ...(sn.type === 'history' ? { history: sn.history === 'deep' ? 'deep' : 'shallow' } : {}),
      entry: actionNames(sn.entry),
      exit: actionNames(sn.exit),
      invoke: sn.invoke.map((i) => i.id),
      tags: [...sn.tags],
      ...(sn.description ? { description: sn.description } : {}),
    });
    const transitions = [...(sn.transitions?.values() ?? [])].flat().concat(sn.always ?? []);
    for (const t of transitions) {
      const { kind, text, delay } = trigger(t);
      const guard = t.guard === undefined ? undefined : guardName(t.guard);
      const targets = t.target && t.target.length > 0 ? t.target : [sn];
      for (const target of targets) {
        edges.push({
          source: sn.id,
          target: target.id,
          event: t.eventType,
          kind,
          label: guard === undefined ? text : `${text} [${guard}]`,
          ...(guard === undefined ? {} : { guard }),
          ...(delay === undefined ? {} : { delay }),
          internal: !t.target || t.target.length === 0,
          actions: t.actions.map(actionName),
        });
      }
    }
    for (const child of Object.values(sn.states ?? {})) visit(child, sn.id);
  };
  visit(root, undefined);
  return { id: root.id, nodes, edges };
}
