import type { TaskEventFilter, TaskEventListener } from './eventObservers.js';
import type { ActorRefFrom, AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { InboxReceiver, InboxSender } from '../inbox/types.js';
import type { TaskStore } from '../stores/types.js';
import type { Json, PersistedTaskMeta, TaskId, TaskParentContext, TaskSummary } from '../wire/types.js';
import type { taskMachine } from '../../machines/task.machine.js';

/** What `createTaskSupervisor` takes. */
export interface SupervisorOptions {
  /** Default: a new `MemoryTaskStore`. Fixed for the supervisor's life. */
  store?: TaskStore;
  /** Where task events go unless a spawn names its own inbox; settable later with `setOwnerInbox`. */
  ownerInbox?: InboxSender;
  /** How long a cancelled body may take to return before the task is settled `cancelled`. Default 30 000. */
  cancelGraceMs?: number;
  /** The clock, in integer milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Passed to XState: a function or an observer of inspection events (Stately inspector etc.). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/** What a spawn takes besides the body. */
export interface SpawnOptions {
  threadId: string;
  taskType: string;
  description: string;
  /** An address for `send_message`; unique among the thread's running tasks. */
  name?: string;
  /** Explicit lineage; ambient lineage fills the fields left unset. */
  parentContext?: TaskParentContext;
  /** Replaces the owner inbox for this task. */
  inbox?: InboxSender;
}

/** What a plain task body gets. */
export interface TaskContext {
  readonly taskId: TaskId;
  /** Aborted when the task is cancelled. */
  readonly signal: AbortSignal;
  /**
   * Reports `{kind:'custom'}`; `false` when there is no inbox, it is closed, or the task finished. Throws `TypeError` for a non-JSON payload.
   *
   * @example
   * ctx.emit('progress', { done: 3, total: 10 });
   */
  emit(eventType: string, payload?: Json): boolean;
  /**
   * Resolves once cancellation is requested.
   *
   * @example
   * await Promise.race([work(), ctx.cancelled()]);
   */
  cancelled(): Promise<void>;
  /**
   * Whether cancellation was requested: check it between steps of a long body.
   *
   * @example
   * for (const url of urls) {
   *   if (ctx.isCancelled()) return TaskResult.cancelled();
   *   await crawl(url, { signal: ctx.signal });
   * }
   */
  isCancelled(): boolean;
  /** The task's inbox, for raw messages. */
  readonly inbox?: InboxSender | undefined;
}

/** What a sub-agent body gets. */
export interface AgentTaskContext {
  /** The sub-agent's task id. */
  readonly taskId: TaskId;
  /** Aborted when the sub-agent is cancelled. */
  readonly signal: AbortSignal;
  /**
   * Resolves once cancellation is requested.
   *
   * @example
   * ctx.cancelled().then(() => console.log('sub-agent cancelled'));
   */
  cancelled(): Promise<void>;
  /**
   * Whether cancellation was requested.
   *
   * @example
   * while (!ctx.isCancelled()) await handle(await ctx.inboxReceiver.recv(ctx.signal));
   */
  isCancelled(): boolean;
  /** The sub-agent's own inbox: nested children report here. */
  readonly inboxSender: InboxSender;
  /** Messages from the parent and from children. */
  readonly inboxReceiver: InboxReceiver;
}

/** A change to a task, for `subscribe`. */
export interface TaskChange {
  type: 'spawned' | 'updated';
  thread_id: string;
  summary: TaskSummary;
}

/** Counters of a supervisor. */
export interface SupervisorStats {
  /** Non-terminal tasks. */
  live: number;
  /** Terminal summaries held in memory. */
  retained: number;
  /** Successful spawns. */
  spawned: number;
  eventsDelivered: number;
  eventsUndelivered: number;
  /** Failed `put` attempts. */
  storeFailures: number;
}

/** A live task's XState actor. */
export type TaskActorRef = ActorRefFrom<typeof taskMachine>;

/** Options of `wait`. */
export interface WaitOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Supervises background tasks: each task is an XState actor of `taskMachine`, its summary kept
 * per owner thread, its events routed to an inbox, its record persisted to the store.
 */
export interface TaskSupervisor {
  /**
   * Starts a background task and resolves with its id (`bg_<n>`) once its `running` record is
   * stored; the body then runs on its own. The body's return value becomes the result (JSON);
   * a throw or `TaskResult.failure(...)` ends it `failed`, `TaskResult.cancelled()` ends it
   * `cancelled`. Rejects with a {@link SpawnError} for a taken or reserved name, a cancelled
   * parent, a stopped supervisor or a store that cannot give ids; a failing body never rejects it.
   *
   * @example
   * const id = await supervisor.spawn(
   *   { threadId: 'thread-1', taskType: 'http', description: 'fetch the docs', name: 'fetcher' },
   *   async (ctx) => {
   *     const res = await fetch('https://example.com', { signal: ctx.signal });
   *     ctx.emit('progress', { status: res.status });
   *     return { bytes: (await res.text()).length };
   *   },
   * );
   */
  spawn(opts: SpawnOptions, body: (ctx: TaskContext) => unknown): Promise<TaskId>;
  /**
   * Starts a sub-agent: a task (type `agent`) with its own inbox, so its parent can message it
   * (`sendTaskInboxMessage`, the `send_message` tool) and the tasks it spawns report to it.
   * Otherwise like {@link TaskSupervisor.spawn}.
   *
   * @example
   * const agent = await supervisor.spawnAgent(
   *   { threadId: 'thread-1', description: 'research assistant', name: 'researcher' },
   *   async (ctx) => {
   *     const message = await ctx.inboxReceiver.recv(ctx.signal); // the parent's instructions
   *     return { heard: message };
   *   },
   * );
   */
  spawnAgent(opts: Omit<SpawnOptions, 'taskType'>, body: (ctx: AgentTaskContext) => unknown): Promise<TaskId>;
  /**
   * Requests cancellation of one task: its `ctx.signal` aborts and it moves to `cancelling`; a body
   * that does not return within `cancelGraceMs` is settled `cancelled`. Returns `true` while the
   * task is live (also on repeated calls), `false` for an unknown or finished task. Its children
   * keep running: use {@link TaskSupervisor.cancelTree} for those.
   *
   * @example
   * if (!supervisor.cancel(id)) console.log('already finished');
   */
  cancel(taskId: TaskId): boolean;
  /**
   * Cancels a task and every live descendant (tasks spawned inside it, at any depth, in any
   * thread). Returns how many live tasks it asked to cancel.
   *
   * @example
   * const n = supervisor.cancelTree(researchId); // the research task and everything it started
   */
  cancelTree(taskId: TaskId): number;
  /**
   * Cancels every live task owned by `threadId`. Returns how many it asked to cancel.
   *
   * @example
   * supervisor.cancelAll('thread-1'); // the user closed the conversation
   */
  cancelAll(threadId: string): number;
  /**
   * Cancels every live task started by the agent run `runId` (its `parent_context.run_id`) and
   * their descendants, and refuses later spawns into that run. Returns how many it asked to cancel.
   *
   * @example
   * supervisor.cancelDescendantsForRun(runId); // the user pressed "stop" on this turn
   */
  cancelDescendantsForRun(runId: string): number;
  /**
   * The task's current summary (status, result or error, timing, lineage), or `undefined` for
   * an unknown or pruned id. Summaries are frozen: read them freely, they never change under you.
   *
   * @example
   * const summary = supervisor.get(id);
   * if (summary?.status === 'failed') console.error(summary.error);
   */
  get(taskId: TaskId): TaskSummary | undefined;
  /**
   * The summaries of every task owned by `threadId`, in creation order.
   *
   * @example
   * const running = supervisor.list('thread-1').filter((t) => t.status === 'running');
   */
  list(threadId: string): TaskSummary[];
  /**
   * Whether `threadId` owns at least one task that has not finished.
   *
   * @example
   * if (!supervisor.hasRunning('thread-1')) await endTurn();
   */
  hasRunning(threadId: string): boolean;
  /**
   * Resolves with the task's final summary once its terminal event was delivered (at once for a
   * finished task). Rejects with a `TimeoutError` after `opts.timeoutMs`, with the signal's reason
   * when `opts.signal` aborts, and with a `TypeError` for an unknown id. Waiting never cancels the
   * task.
   *
   * @example
   * const summary = await supervisor.wait(id, { timeoutMs: 60_000 });
   * console.log(summary.status, summary.result);
   */
  wait(taskId: TaskId, opts?: WaitOptions): Promise<TaskSummary>;
  /**
   * Delivers a message to a live sub-agent's inbox, on behalf of `fromAgentId`. Throws a
   * {@link SendError} when the task is unknown, owned by another thread, finished, not a
   * sub-agent, or its inbox is closed.
   *
   * @example
   * supervisor.sendTaskInboxMessage(agentId, 'thread-1', 'coordinator', 'focus on the 2025 data');
   */
  sendTaskInboxMessage(taskId: TaskId, ownerThreadId: string, fromAgentId: string, content: string): void;
  /**
   * Restores a thread from records you loaded yourself (the store-free version of
   * {@link TaskSupervisor.loadThread}) and resolves with how many it restored. All or nothing: a
   * malformed record rejects with a `TypeError` naming the record and field, and nothing is restored.
   *
   * @example
   * await supervisor.restoreForThread('thread-1', JSON.parse(savedJson));
   */
  restoreForThread(
    threadId: string,
    metas: Iterable<PersistedTaskMeta> | Record<TaskId, PersistedTaskMeta>,
  ): Promise<number>;
  /**
   * Restores `threadId`'s tasks from the store after a restart and resolves with how many it
   * restored. Finished tasks keep their results; a task that was `running` when its process died
   * becomes `failed` (orphaned) — unless the store says another live process still runs it. Rows
   * the store cannot read are skipped and reported by the store, never thrown.
   *
   * @example
   * const restored = await supervisor.loadThread('thread-1');
   */
  loadThread(threadId: string): Promise<number>;
  /**
   * Every task this supervisor holds, as the wire records it persists (snake_case JSON that the
   * Rust runtime reads too), keyed by task id.
   *
   * @example
   * const records = Object.values(supervisor.persistedSnapshot());
   */
  persistedSnapshot(): Record<TaskId, PersistedTaskMeta>;
  /**
   * Forgets finished tasks (all, or one thread's, or those finished more than `olderThanMs` ago)
   * to give memory back; running tasks are never pruned. Returns how many it forgot. The links
   * from pruned tasks to their children are kept, so `cancelTree` still reaches live descendants.
   *
   * @example
   * setInterval(() => supervisor.prune({ olderThanMs: 3_600_000 }), 60_000).unref();
   */
  prune(opts: { threadId?: string; olderThanMs?: number }): number;
  /**
   * Replaces the owner inbox that later spawns report to; tasks already running keep theirs.
   * `undefined` means later tasks report nowhere (their events are counted as undelivered).
   *
   * @example
   * supervisor.setOwnerInbox(createInbox().sender);
   */
  setOwnerInbox(sender: InboxSender | undefined): void;
  /**
   * Calls `listener` on every status change of every task (`spawned`, then `updated` with the new
   * summary), synchronously, and returns the function that unsubscribes. Custom events are not
   * status changes: observe them with {@link TaskSupervisor.onEvent}.
   *
   * @example
   * const unsubscribe = supervisor.subscribe((c) => console.log(c.type, c.summary.task_id, c.summary.status));
   */
  subscribe(listener: (change: TaskChange) => void): () => void;
  /**
   * Observes task events — each task's custom events, then its one terminal event — as the
   * supervisor produces them, without taking them from any inbox. Filter by thread or task.
   * Returns the function that stops observing. A listener that throws is reported as a process
   * warning and never disturbs the task.
   *
   * @example
   * const stop = supervisor.onEvent((event) => console.log(event.kind), { threadId: 'thread-1' });
   */
  onEvent(listener: TaskEventListener, filter?: TaskEventFilter): () => void;
  /**
   * Counters: live and retained tasks, spawns, delivered and undelivered events, failed store
   * writes.
   *
   * @example
   * const { live, storeFailures } = supervisor.stats();
   */
  stats(): SupervisorStats;
  /**
   * The supervisor's own XState actor (`active → stopping → stopped`), for inspection tools.
   *
   * @example
   * supervisor.actor.subscribe((snapshot) => console.log(snapshot.value));
   */
  readonly actor: AnyActorRef;
  /**
   * The XState actor of a live task (`undefined` once it finished or for an unknown id), for
   * inspection: subscribe to its snapshots; do not send it events.
   *
   * @example
   * supervisor.taskActor(id)?.subscribe((snapshot) => console.log(snapshot.value));
   */
  taskActor(taskId: TaskId): TaskActorRef | undefined;
  /**
   * Stops the supervisor: later spawns are refused (`supervisor_stopped`), the tasks still
   * running are awaited until they settle, and every pending store write is flushed. Resolves
   * once stopped; calling it again returns the same promise. Cancel first to end sooner.
   *
   * @example
   * supervisor.cancelAll('thread-1');
   * await supervisor.stop();
   */
  stop(): Promise<void>;
}
