import type { Actor } from 'xstate';
import type { taskMachine } from '../../machines/task.machine.js';
import type { Inbox, InboxSender } from '../inbox/types.js';
import type { TaskFlow } from './flow.js';
import { summaryFromMeta } from '../wire/convert.js';
import type { CustomTaskEvent, PersistedTaskMeta, TaskId, TaskSummary } from '../wire/types.js';

/**
 * One grace timer for the tasks a cancel operation moved to `cancelling` together; it is
 * disarmed once every member finished. Internal.
 */
export interface GraceBatch {
  readonly members: TaskEntry[];
  /** Members not finished yet. */
  pending: number;
  /** The clock's handle, while armed. */
  timer: unknown;
}

/**
 * What the supervisor holds for one task: its immutable summary (replaced, never mutated, so
 * `get`/`list` hand it out without copying) and, while it lives, its actor and signal.
 * Internal; never exported from the package.
 */
export interface TaskEntry {
  readonly id: TaskId;
  ownerThreadId: string;
  readonly name: string | undefined;
  summary: TaskSummary;
  /** `parent_context.task_id`, indexed for cascades. */
  readonly parentTaskId: string | undefined;
  /** Spawned by this supervisor (as opposed to restored from a record). */
  readonly local: boolean;
  /** A `running` record owned by another live process: no actor here. */
  remote: boolean;
  actor: Actor<typeof taskMachine> | undefined;
  /** Where this task's events go, fixed at spawn. */
  readonly inbox: InboxSender | undefined;
  /** A sub-agent's own inbox. */
  readonly agentInbox: Inbox | undefined;
  cancelRequested: boolean;
  /** The deadline timer's handle, while one is armed. */
  deadline: unknown;
  /** The grace batch it is cancelling in. */
  grace: GraceBatch | undefined;
  /** Created on first read of `ctx.signal` (an AbortController costs ~6 µs; most bodies never read it). */
  controller: AbortController | undefined;
  cancelWaiters: (() => void)[] | undefined;
  /** Its `running` record is durable (spawn) or it came from a record (restore). */
  committed: boolean;
  /** A final state reached before the spawn's record was durable, handled once it is. */
  earlyFinal: (() => void) | undefined;
  /** Terminal in memory (the body's later return is ignored). */
  done: boolean;
  /** The terminal event was delivered (after its store write was attempted). */
  delivered: boolean;
  waiters: ((summary: TaskSummary) => void)[] | undefined;
  /**
   * The latest custom event it emitted (`latestEvent`), in a holder that the emit path replaces
   * every 64 events (read it with {@link lastEventOf}). The holder is young, so storing each
   * (young) event in it costs no old-to-new write barrier, which storing it on the long-lived
   * entry itself cost on every event (~50 instructions).
   */
  latest: { event: CustomTaskEvent } | undefined;
  /** Events stored in `latest` since it was made. */
  latestStores: number;
  /** Per event type, the latest one that is not the latest event (filled when the type changes). */
  lastByType: Map<string, CustomTaskEvent> | undefined;
  /** Queue, input and usage state; `undefined` for a task that uses none of them. */
  flow: TaskFlow | undefined;
}

/**
 * The latest custom event a task emitted, or `undefined`.
 *
 * @example
 * lastEventOf(entry)?.event_type; // 'progress'
 */
export function lastEventOf(entry: TaskEntry): CustomTaskEvent | undefined {
  return entry.latest?.event;
}

const XSTATE_STOP = Object.freeze({ type: 'xstate.stop' });

/**
 * Stops a task actor that will not reach a final state (its task was dropped or ended elsewhere).
 * Task actors are children of the supervisor's root actor, whose `stop()` refuses them; this is
 * the stop event XState's own `stop()` queues.
 */
export function stopTaskActor(actor: Actor<typeof taskMachine>): void {
  if (actor.getSnapshot().status === 'active') actor.send(XSTATE_STOP as never);
}

/** A new entry with every optional slot empty. */
export function newEntry(init: {
  id: TaskId;
  ownerThreadId: string;
  name: string | undefined;
  summary: TaskSummary;
  local: boolean;
  inbox: InboxSender | undefined;
  agentInbox: Inbox | undefined;
}): TaskEntry {
  return {
    id: init.id,
    ownerThreadId: init.ownerThreadId,
    name: init.name,
    summary: init.summary,
    parentTaskId: init.summary.parent_context?.task_id,
    local: init.local,
    remote: false,
    actor: undefined,
    inbox: init.inbox,
    agentInbox: init.agentInbox,
    cancelRequested: false,
    deadline: undefined,
    grace: undefined,
    controller: undefined,
    cancelWaiters: undefined,
    committed: !init.local,
    earlyFinal: undefined,
    done: init.summary.status !== 'running',
    delivered: init.summary.status !== 'running',
    waiters: undefined,
    latest: undefined,
    latestStores: 0,
    lastByType: undefined,
    flow: undefined,
  };
}

/** The entry of a task restored from a stored record (not run by this process). */
export function storedEntry(meta: PersistedTaskMeta, threadId: string): TaskEntry {
  return newEntry({
    id: meta.task_id,
    ownerThreadId: threadId,
    name: meta.name,
    summary: Object.freeze(summaryFromMeta(meta)),
    local: false,
    inbox: undefined,
    agentInbox: undefined,
  });
}
