import type { TaskEventFilter, TaskEventListener } from './eventObservers.js';
import type { TimerClock } from './options.js';
import type { ActorRefFrom, AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { InboxReceiver, InboxSender } from '../inbox/types.js';
import type { MessageOutboxStore } from '../stores/outbox.js';
import type { TaskStore } from '../stores/types.js';
import type {
  CustomTaskEvent,
  Json,
  PersistedTaskMeta,
  TaskId,
  TaskParentContext,
  TaskSummary,
} from '../wire/types.js';
import type { TaskEventStream, TaskEventStreamOptions } from './eventStream.js';
import type { taskMachine } from '../../machines/task.machine.js';

/** What `createTaskSupervisor` takes. */
export interface SupervisorOptions {
  /** Default: a new `MemoryTaskStore`. Fixed for the supervisor's life. */
  store?: TaskStore;
  /** Where task events go unless a spawn names its own inbox; settable later with `setOwnerInbox`. */
  ownerInbox?: InboxSender;
  /** How long a cancelled body may take to return before the task is settled `cancelled`. Default 30 000. */
  cancelGraceMs?: number;
  /**
   * How long `stop()` keeps retrying records the store has not accepted before it rejects with a
   * `StoreError` (code `store_unwritten`) naming them. Default 10 000.
   */
  stopTimeoutMs?: number;
  /** The clock, in integer milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /**
   * The timers of the task actors: the cancel grace and `timeoutMs` deadlines. Default: the real
   * `setTimeout`. Tests pass XState's `SimulatedClock` to move time by hand (pair it with `now`).
   */
  clock?: TimerClock;
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
  /**
   * A deadline, in milliseconds from the spawn (on the supervisor's `clock`). A task still running
   * when it passes is cancelled with its descendants — its signal aborts with a `TimeoutError`
   * and the cancel grace applies — and, if it ends `cancelled`, its summary's `error` reads
   * `task timed out after <timeoutMs> ms`. Omitted or `Infinity`: no deadline.
   */
  timeoutMs?: number;
}

/** What a plain task body gets. */
export interface TaskContext {
  readonly taskId: TaskId;
  /** Aborted when the task is cancelled. */
  readonly signal: AbortSignal;
  /** Reports `{kind:'custom'}`; `false` when there is no inbox, it is closed, or the task finished. Throws `TypeError` for a non-JSON payload. */
  emit(eventType: string, payload?: Json): boolean;
  /** Resolves once cancellation is requested. */
  cancelled(): Promise<void>;
  isCancelled(): boolean;
  /** The task's inbox, for raw messages. */
  readonly inbox?: InboxSender | undefined;
}

/** What a sub-agent body gets. */
export interface AgentTaskContext {
  readonly taskId: TaskId;
  readonly signal: AbortSignal;
  cancelled(): Promise<void>;
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
  /**
   * Custom events that bounded inboxes dropped (oldest first) when this supervisor's deliveries
   * found them full. Each was first counted in `eventsDelivered`.
   */
  eventsDropped: number;
  /** Failed `put` attempts, and failed store deletes of pruned records. */
  storeFailures: number;
  /** Records the store rejected and that wait for a retry (see `storeBacklog()`). */
  storeBacklog: number;
  /** Records a fencing store refused because it holds a newer version; memory took the store's. */
  storeRefused: number;
}

/** A record the store has not accepted yet: how often it failed on its own, and the last error. */
export interface StoreBacklogEntry {
  readonly taskId: TaskId;
  /** Failed `put` calls that held this record alone. */
  readonly attempts: number;
  /** The store's last error for it, as text. */
  readonly lastError: string;
}

/**
 * Options of `prune`.
 *
 * @example
 * supervisor.prune({ threadId: 'thread-1', olderThanMs: 60_000, fromStore: true });
 */
export interface PruneOptions {
  /** Only this thread's tasks. */
  threadId?: string;
  /** Only tasks that ended at least this long ago (by the `now` option). Default 0. */
  olderThanMs?: number;
  /**
   * Also delete the pruned records from the store (it must implement `delete`), so they take no
   * room there either and a restart does not bring them back. The delete runs in the background,
   * after any write of those records still pending; a failure is counted in `stats().storeFailures`
   * and retried by the next `prune({ fromStore: true })`. `stop()` waits for it. Default `false`.
   */
  fromStore?: boolean;
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
  /** Durable agent messaging: the store's `messages`, or an in-memory outbox when the store has none. */
  readonly messages: MessageOutboxStore;
  spawn(opts: SpawnOptions, body: (ctx: TaskContext) => unknown): Promise<TaskId>;
  spawnAgent(opts: Omit<SpawnOptions, 'taskType'>, body: (ctx: AgentTaskContext) => unknown): Promise<TaskId>;
  cancel(taskId: TaskId): boolean;
  cancelTree(taskId: TaskId): number;
  cancelAll(threadId: string): number;
  cancelDescendantsForRun(runId: string): number;
  get(taskId: TaskId): TaskSummary | undefined;
  list(threadId: string): TaskSummary[];
  hasRunning(threadId: string): boolean;
  wait(taskId: TaskId, opts?: WaitOptions): Promise<TaskSummary>;
  sendTaskInboxMessage(taskId: TaskId, ownerThreadId: string, fromAgentId: string, content: string): void;
  restoreForThread(
    threadId: string,
    metas: Iterable<PersistedTaskMeta> | Record<TaskId, PersistedTaskMeta>,
  ): Promise<number>;
  loadThread(threadId: string): Promise<number>;
  /**
   * The running task of thread `threadId` spawned with `name` (`SpawnOptions.name`), or
   * `undefined`. An index lookup, O(1) however many tasks the supervisor holds; a name is unique
   * among a thread's running tasks, so there is at most one.
   *
   * @example
   * await supervisor.spawn({ threadId: 't1', taskType: 'crawl', description: 'docs', name: 'crawler' }, body);
   * supervisor.findRunningByName('t1', 'crawler')?.task_id; // 'bg_0'
   * supervisor.findRunningByName('t2', 'crawler');          // undefined
   */
  findRunningByName(threadId: string, name: string): TaskSummary | undefined;
  /**
   * A running direct child of task `parentTaskId` (by `parent_context.task_id`) spawned with
   * `name`, in any owner thread, or `undefined`. Costs O(threads with a running task of that name).
   *
   * @example
   * supervisor.findRunningChildByName('bg_0', 'researcher')?.task_id; // 'bg_3'
   */
  findRunningChildByName(parentTaskId: TaskId, name: string): TaskSummary | undefined;
  /**
   * The running root tasks of run `runId` (`parent_context.run_id === runId`, no parent task), in
   * every owner thread, in spawn order. An index read: linear in the run's roots only.
   *
   * @example
   * supervisor.runningRootsOfRun('run-1').map((s) => s.task_id); // ['bg_0', 'bg_4']
   */
  runningRootsOfRun(runId: string): TaskSummary[];
  /**
   * The owner thread of a task this supervisor holds (running, or terminal and not pruned), or
   * `undefined`. Summaries carry no thread; this is the O(1) way to check who owns a task id.
   *
   * @example
   * supervisor.ownerThreadOf('bg_0'); // 't1'
   */
  ownerThreadOf(taskId: TaskId): string | undefined;
  persistedSnapshot(): Record<TaskId, PersistedTaskMeta>;
  prune(opts?: PruneOptions): number;
  setOwnerInbox(sender: InboxSender | undefined): void;
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
   * The same events as `onEvent`, as an async iterator: each call gets its own bounded buffer
   * (`bufferSize`, default 1024; past it the oldest unread custom event is dropped and counted in
   * `dropped`, terminal events never are). The stream ends when `signal` aborts, once the
   * supervisor has stopped (after the buffered events), after the followed task's terminal event
   * (with `taskId`; at once if it already ended), or when the loop breaks. Throws `TypeError` for
   * bad options or an unknown `taskId`.
   *
   * @example
   * for await (const event of supervisor.events({ taskId: id })) {
   *   if (event.kind === 'custom') console.log(event.event_type, event.payload);
   *   else console.log('ended', event.kind);
   * }
   */
  events(opts?: TaskEventStreamOptions): TaskEventStream;
  /**
   * A task's latest custom event — of `eventType`, or of any type — without reading any inbox
   * (so `list()` plus this shows progress). `undefined` when it emitted none, is unknown or was
   * pruned; a restored task has none.
   *
   * @example
   * supervisor.latestEvent(id, 'progress')?.payload; // { percent: 40 }
   */
  latestEvent(taskId: TaskId, eventType?: string): CustomTaskEvent | undefined;
  stats(): SupervisorStats;
  /**
   * The records the store has rejected and the supervisor still retries (memory stays the truth
   * meanwhile), each with how many times it failed on its own and the store's last error. A record
   * the store keeps rejecting (too large, say) stays here instead of vanishing; others go through.
   *
   * @example
   * for (const { taskId, attempts, lastError } of supervisor.storeBacklog())
   *   console.warn(`${taskId} unwritten after ${attempts} tries: ${lastError}`);
   */
  storeBacklog(): StoreBacklogEntry[];
  readonly actor: AnyActorRef;
  taskActor(taskId: TaskId): TaskActorRef | undefined;
  /**
   * Refuses new spawns, cancels every live task, waits for each to settle (at most
   * `cancelGraceMs`), delivers their terminal events, then retries every record the store has not
   * accepted for up to `stopTimeoutMs` (default 10 s). Resolves once everything is written;
   * otherwise rejects with a `StoreError` (code `store_unwritten`) whose `taskIds` name the records
   * still unwritten, which stay retried in the background. Calling `stop()` again after such a
   * rejection retries them for another `stopTimeoutMs`. A store whose `put` never settles holds
   * `stop()` at most `cancelGraceMs` + 2 × `stopTimeoutMs`.
   *
   * @example
   * try { await supervisor.stop(); }
   * catch (e) { if (e instanceof StoreError) console.error('unwritten:', e.taskIds); }
   */
  stop(): Promise<void>;
}
