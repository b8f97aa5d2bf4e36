/**
 * The reference model's data types.
 */
import type {
  Json,
  TaskEvent,
  TaskId,
  TaskParentContext,
  TaskStatus,
  TaskStopReason,
  TaskSummary,
} from '../wire/types.js';

/** A model task's state: the task machine's states, flattened. */
export type ModelState = 'active' | 'cancelling' | 'completed' | 'failed' | 'cancelled';

/** How a body ends, as a command tells it to. */
export type ModelOutcome =
  | { readonly kind: 'success'; readonly value: Json }
  | { readonly kind: 'failure'; readonly error: string }
  | { readonly kind: 'throw'; readonly message: string }
  | { readonly kind: 'cancelled' };

/** What a cooperative body does once cancellation is requested (sub-agents: `cancelled` or `throw`). */
export type CancelReaction = 'cancelled' | 'throw' | 'emit-then-cancelled' | 'success';

/**
 * The outcome a cooperative body's reaction amounts to.
 *
 * @example
 * reactionOutcome('throw'); // { kind: 'throw', message: 'task cancelled' }
 */
export function reactionOutcome(reaction: CancelReaction): ModelOutcome {
  if (reaction === 'throw') return { kind: 'throw', message: 'task cancelled' };
  if (reaction === 'success') return { kind: 'success', value: 'late' };
  return { kind: 'cancelled' };
}

/** One task as the model sees it. */
export interface ModelTask {
  readonly id: TaskId;
  readonly thread: string;
  readonly name: string | undefined;
  readonly taskType: string;
  readonly description: string;
  readonly parentContext: TaskParentContext;
  readonly agent: boolean;
  /** Its body honours cancellation at once, with `reaction`; else it ignores it. */
  readonly cooperative: boolean;
  readonly reaction: CancelReaction;
  /** Where its events go: `'owner'` (the owner inbox) or the id of the sub-agent whose inbox gets them. */
  readonly inbox: 'owner' | TaskId;
  /** Its `timeoutMs` deadline, if it was spawned with one. */
  readonly timeoutMs?: number | undefined;
  /** Its deadline passed while it was `active` (a `cancelled` end then says it timed out). */
  timedOut?: boolean;
  /** Why it was asked to stop (the summary's `stop_reason` once it ends `cancelled`, or orphaned). */
  stopReason?: TaskStopReason;
  readonly createdAt: number;
  /** Spawned by the current supervisor (it has a body); `false` for restored records. */
  readonly live: boolean;
  state: ModelState;
  result?: Json;
  error?: string;
  completedAt?: number;
  /** Forgotten by `prune` (the store keeps it). */
  pruned: boolean;
  /** Events expected from this task, in order, in its inbox. */
  readonly events: TaskEvent[];
  /** A sub-agent's expected receiver contents, oldest first (drained when it returns success). */
  readonly received: Json[];
}

const TERMINAL = new Set<ModelState>(['completed', 'failed', 'cancelled']);

/**
 * Whether a model state is terminal.
 *
 * @example
 * isModelTerminal('cancelled'); // true
 */
export const isModelTerminal = (s: ModelState): boolean => TERMINAL.has(s);

/** Options of `ReferenceModel`. */
export interface ReferenceModelOptions {
  /**
   * Model a runtime whose `prune` forgets a terminal task's links, so a later `cancelTree` of
   * its ancestor no longer reaches its live descendants (awaken-tasks before 967d1ea). Default
   * `false`: descendants are found by `parent_context.task_id`, pruned or not.
   */
  pruneForgetsLinks?: boolean;
  /** Whether `spawn` commands may name a pruned task as explicit parent (default `true`). */
  parentsAmongPruned?: boolean;
}

/** The summary `get(id)` should return for a model task. @example modelSummary(model.get('bg_0')!).status */
export function modelSummary(t: ModelTask): TaskSummary {
  const status: TaskStatus = t.state === 'active' || t.state === 'cancelling' ? 'running' : t.state;
  const s: TaskSummary = {
    task_id: t.id,
    task_type: t.taskType,
    description: t.description,
    status,
    created_at_ms: t.createdAt,
  };
  if (t.error !== undefined) s.error = t.error;
  if (t.result !== undefined && t.result !== null) s.result = t.result;
  if (t.completedAt !== undefined) s.completed_at_ms = t.completedAt;
  if (Object.keys(t.parentContext).length > 0) s.parent_context = t.parentContext;
  if (t.stopReason !== undefined && (t.state === 'cancelled' || t.state === 'failed'))
    s.stop_reason = t.stopReason;
  return s;
}

/**
 * Messages grouped by `task_id`, each task's own order kept: events of different tasks interleave
 * arbitrarily, so a sub-agent's drained inbox is compared in this form.
 *
 * @example
 * expect(byTask(agentInbox.drain())).toEqual(byTask(expected));
 */
export function byTask(messages: readonly Json[]): Json[] {
  const id = (m: Json): string => String((m as { task_id?: unknown }).task_id);
  return [...messages].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}
