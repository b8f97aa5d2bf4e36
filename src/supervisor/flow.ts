import type { Json, TaskUsage } from '../wire/types.js';

/** A pending `ctx.requestInput`: what was asked, and how to resume or abandon the body's promise. */
export interface PendingInput {
  readonly request: Json;
  readonly validate: ((response: Json) => unknown) | undefined;
  readonly resolve: (response: Json) => void;
  readonly reject: (reason: unknown) => void;
  /** The answer, once given, while the task waits for a slot to go on with it. */
  response?: Json;
  answered: boolean;
}

/**
 * What a task uses of queues, input and budgets. Absent on a plain task (nothing is allocated
 * for it); created at spawn when the supervisor has limits or the spawn a budget, else on the
 * first `requestInput` or `reportUsage`.
 */
export interface TaskFlow {
  /** `queued` until a slot comes; `waiting` in `requestInput`; `undefined` while the body runs. */
  phase: 'queued' | 'waiting' | undefined;
  /** Holds one of the concurrency gate's slots. */
  holdsSlot: boolean;
  /** Spawn order, for FIFO within a priority. */
  readonly seq: number;
  /** Higher first. */
  readonly priority: number;
  /** A durable task's attempt loop waiting in the queue for its next attempt's slot. */
  onSlot: (() => void) | undefined;
  /** A queued task's body and kind, until it starts. */
  body: ((ctx: never) => unknown) | undefined;
  readonly agent: boolean;
  /** When the body last (re)started running, on the supervisor's clock (for the paused deadline). */
  activeSinceMs: number | undefined;
  input: PendingInput | undefined;
  /** Its own reported usage. */
  usage: TaskUsage | undefined;
  /** Its usage plus its descendants'. */
  treeUsage: TaskUsage | undefined;
  readonly budget: TaskUsage | undefined;
}

let nextSeq = 0;

/** A task's flow state, nothing queued, no input, no usage. */
export function newFlow(priority: number, agent: boolean, budget: TaskUsage | undefined): TaskFlow {
  return {
    phase: undefined,
    holdsSlot: false,
    seq: nextSeq++,
    priority,
    onSlot: undefined,
    body: undefined,
    agent,
    activeSinceMs: undefined,
    input: undefined,
    usage: undefined,
    treeUsage: undefined,
    budget,
  };
}
