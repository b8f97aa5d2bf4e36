import type { TaskEventFilter, TaskEventListener } from './eventObservers.js';
import type { TimerClock } from './options.js';
import type { ActorRefFrom, AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { InboxReceiver, InboxSender } from '../inbox/types.js';
import type { MessageOutboxStore } from '../stores/outbox.js';
import type { TaskStore } from '../stores/types.js';
import type { ReplicaEvent } from '../stores/coordination.js';
import type {
  CustomTaskEvent,
  Json,
  PersistedTaskMeta,
  TaskId,
  TaskParentContext,
  TaskSummary,
  TaskUsage,
} from '../wire/types.js';
import type { TaskEventStream, TaskEventStreamOptions } from './eventStream.js';
import type { ThreadIdleEvent, ThreadIdleListener, WhenIdleOptions } from './idle.js';
import type { taskMachine } from '../../machines/task.machine.js';
import type { Usage } from './budget.js';
import type { ConcurrencyLimits } from './concurrency.js';
import type { UsageQuery } from './flowControl.js';
import type { RequestInputOptions } from './input.js';
import type { StopReport, StopTarget } from './stopReport.js';

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
  /**
   * Limits on how many task bodies run at once (per supervisor, per thread, per task type). A
   * spawn past a limit is accepted and waits `queued` (a `running` summary with `phase: 'queued'`)
   * until a slot frees. Default: no limit (every spawn starts at once).
   */
  concurrency?: ConcurrencyLimits;
  /** A budget for every task of a type that is spawned without its own `budget`. */
  budgetPerType?: Readonly<Record<string, Usage>>;
}

/** What a spawn takes besides the body. */
export interface SpawnOptions {
  threadId: string;
  taskType: string;
  description: string;
  /** An address for `send_message`; unique among the thread's running tasks. */
  name?: string;
  /**
   * Explicit lineage; ambient lineage fills the fields left unset. Inside a task's body (and no
   * explicit `task_id`), that task becomes `task_id` and its own `run_id` fills an unset `run_id`;
   * then the tool lineage (`withToolLineage`) fills `run_id`, `call_id` and `agent_id`. A task with
   * a `task_id` is never a root of its run: the run's sweep reaches it through its parent.
   */
  parentContext?: TaskParentContext;
  /** Replaces the owner inbox for this task. */
  inbox?: InboxSender;
  /**
   * A deadline, in milliseconds from the spawn (on the supervisor's `clock`). A task still running
   * when it passes is cancelled with its descendants — its signal aborts with a `TimeoutError`
   * and the cancel grace applies — and, if it ends `cancelled`, its summary's `error` reads
   * `task timed out after <timeoutMs> ms`. Omitted or `Infinity`: no deadline. A queued task's
   * deadline counts from when it starts; the deadline is paused while the task waits for input.
   */
  timeoutMs?: number;
  /** With `concurrency` limits: queued tasks start highest priority first, FIFO within one. Default 0. */
  priority?: number;
  /**
   * Limits on what the task and its descendants report with `ctx.reportUsage`. Once one is
   * exceeded (strictly), the task and its subtree are cancelled, with `stop_reason: 'budget'`.
   */
  budget?: Usage;
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
  /**
   * Pauses the task until someone answers `request` (a question, an approval, a schema: any JSON)
   * with `supervisor.provideInput`, and resolves with the answer. While it waits the task is
   * `running.waiting` (`phase: 'waiting'`, `input_request` on its summary), holds no concurrency
   * slot and its deadline is paused; its owner gets a custom event `input_required` with
   * `{ request }`. Rejects with the signal's reason if the task is cancelled meanwhile.
   *
   * @example
   * const answer = await ctx.requestInput({ question: 'Deploy to production?' });
   * if (answer !== 'yes') return TaskResult.cancelled();
   */
  requestInput(request: Json, options?: RequestInputOptions): Promise<Json>;
  /**
   * Adds usage to the task's totals (its summary's `usage`, rolled up to its ancestors); a
   * `budget` exceeded cancels the task that has it, with its subtree.
   *
   * @example
   * ctx.reportUsage({ tokens: response.usage.totalTokens, costUsd: 0.002, toolCalls: 1 });
   */
  reportUsage(usage: Usage): void;
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
  /**
   * Pauses the sub-agent until `supervisor.provideInput` answers `request`; see
   * {@link TaskContext.requestInput}.
   *
   * @example
   * const approved = await ctx.requestInput({ approve: 'send the email to 40 people?' });
   */
  requestInput(request: Json, options?: RequestInputOptions): Promise<Json>;
  /**
   * Adds usage to the sub-agent's totals; see {@link TaskContext.reportUsage}.
   *
   * @example
   * ctx.reportUsage({ tokens: 5_000, costUsd: 0.01 });
   */
  reportUsage(usage: Usage): void;
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
  /** With replicas only: custom events not yet stored (retried in order, at most 10 000). */
  eventsUnstored?: number;
  /** With replicas only: cancel and message requests for other replicas not yet recorded (retried in order). */
  controlUnstored?: number;
  /** With replicas only: events and requests given up because their backlog was full. */
  unstoredDropped?: number;
  /** With replicas only: times the dedicated database connection was lost (see `onReplicaEvent`). */
  connectionLosses?: number;
  /** With replicas only: times it was re-established. */
  reconnects?: number;
  /** With replicas only: times notifications stopped and control requests and events were polled instead. */
  pollingFallbacks?: number;
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
  /**
   * Starts a background task and resolves with its id (`bg_<n>`) once its `running` record is
   * stored; the body then runs on its own. The body's return value becomes the result (JSON);
   * a throw or `TaskResult.failed(...)` ends it `failed`, `TaskResult.cancelled()` ends it
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
   * Registers a durable task type (one made by `defineTask` with a `durable` section) and takes up
   * its stored tasks that have not ended, in every thread: an attempt whose process died counts
   * as failed, and each task waits for its next attempt (it shows `running`, `phase: 'retrying'`).
   * Resolves with how many tasks it took up. Register each durable type at startup, before
   * `loadThread`; spawning one registers it too.
   *
   * @example
   * const render = defineTask({ taskType: 'render', durable: { retry: { maximumAttempts: 5 } }, run: renderFrame });
   * await supervisor.register(render); // its unfinished tasks run again
   */
  register(taskType: { readonly taskType: string }): Promise<number>;
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
   * Resolves when `threadId` has no work left: no running task, and every ended task's terminal
   * event delivered (so an inbox drained afterwards holds it). Resolves at once when the thread
   * is idle already (`finished` then lists what ended since its last idle event, often nothing).
   * The {@link ThreadIdleEvent} lists the tasks that ended since the thread's previous idle event.
   * Rejects with `opts.signal`'s reason when it aborts, with a `TimeoutError` after
   * `opts.timeoutMs`. Waiting never cancels anything. Across replicas it counts the tasks this
   * supervisor spawned or loaded (`loadThread`); a remote task's end counts once its stored events
   * were handed to this process's owner inbox.
   *
   * @example
   * const idle = await supervisor.whenIdle('thread-1', { signal: AbortSignal.timeout(60_000) });
   * for (const t of idle.finished) console.log(t.task_id, t.status);
   */
  whenIdle(threadId: string, opts?: WhenIdleOptions): Promise<ThreadIdleEvent>;
  /**
   * Calls `listener` each time a thread (every thread, or `filter.threadId`) becomes idle, with the
   * tasks that ended since its previous idle event; returns the function that stops listening.
   * The first `onIdle`/`whenIdle` call starts the bookkeeping (before it, nothing is recorded). A
   * listener that throws is reported as a process warning.
   *
   * @example
   * const stop = supervisor.onIdle((e) => wakeAgent(e.thread_id, e.finished), { threadId: 'thread-1' });
   */
  onIdle(listener: ThreadIdleListener, filter?: { threadId?: string }): () => void;
  /**
   * Delivers a message to a live sub-agent's inbox, on behalf of `fromAgentId`. Throws a
   * {@link SendError} when the task is unknown, owned by another thread, finished, not a
   * sub-agent, or its inbox is closed. A sub-agent running on another replica gets the message
   * through the database; `options.messageId` names the sender's outbox entry (keyed by
   * `ownerThreadId`): if that sub-agent can no longer take the message when its owner applies it,
   * the message becomes a dead letter there (`recipient_finished: …`).
   *
   * @example
   * supervisor.sendTaskInboxMessage(agentId, 'thread-1', 'coordinator', 'focus on the 2025 data');
   */
  sendTaskInboxMessage(
    taskId: TaskId,
    ownerThreadId: string,
    fromAgentId: string,
    content: string,
    options?: { messageId?: string },
  ): void;
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
  /**
   * The spawn name (`SpawnOptions.name`) of a task this supervisor holds, running or finished, or
   * `undefined` (no name, unknown or pruned). Summaries carry no name; this is the O(1) way to
   * read it (the tools use it to say that a named recipient has finished).
   *
   * @example
   * supervisor.taskName('bg_0'); // 'researcher'
   */
  taskName(taskId: TaskId): string | undefined;
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
   * With `fromStore: true` their records are deleted from the store too (in the background, after
   * any pending write of them), so a restart does not bring them back.
   *
   * @example
   * setInterval(() => supervisor.prune({ olderThanMs: 3_600_000 }), 60_000).unref();
   */
  prune(opts?: PruneOptions): number;
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
   * Observes changes in a replica's link to its database (only with a coordinating store such as
   * `PostgresTaskStore`; otherwise nothing is ever reported): the dedicated connection lost and
   * re-established, and the polling fallback starting and ending. Each is also a process warning
   * and counted in `stats()`. Returns the function that stops observing.
   *
   * @example
   * supervisor.onReplicaEvent((e) => console.warn(e.type, e.epoch, e.error ?? ''));
   */
  onReplicaEvent(listener: (event: ReplicaEvent) => void): () => void;
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
  /**
   * Counters: live and retained tasks, spawns, delivered and undelivered events, failed store
   * writes, the store backlog, refused records, dropped events.
   *
   * @example
   * const { live, storeFailures } = supervisor.stats();
   */
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
   * Refuses new spawns, cancels every live task (a durable task is suspended instead: its attempt's
   * signal aborts, a store call it was retrying is not waited for, and it stays `running` in the
   * store for the next process's `register`), waits for each to settle (at most `cancelGraceMs`),
   * delivers their terminal events, then retries every record the store has not
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
  /**
   * Like `stop()`, and resolves with what it stopped: the tasks live when it was called that
   * settled on their own (`settled`) or were settled by the grace timer (`forced`).
   *
   * @example
   * const { forced } = await supervisor.stopWithReport();
   * if (forced.length > 0) console.warn('ignored the stop:', forced);
   */
  stopWithReport(): Promise<StopReport>;
  /**
   * Cancels like `cancelTree` (each id of `tree`), `cancelAll` (`threadId`) or
   * `cancelDescendantsForRun` (`runId`), then resolves once every task it reached has ended, with
   * which settled within the grace period, which were force-settled, and which ids were not found.
   *
   * @example
   * const report = await supervisor.cancelWithReport({ tree: [a, b] });
   * report.forced;   // ids whose bodies ignored the cancellation past cancelGraceMs
   * report.notFound; // ids this supervisor does not hold
   */
  cancelWithReport(target: StopTarget): Promise<StopReport>;
  /**
   * Answers a task waiting in `ctx.requestInput`: the task goes on with `response` (at once, or
   * when a concurrency slot frees). Returns `true` when this answer resumes it, `false` when the
   * task is unknown, finished, not waiting, or already answered (so a task resumes exactly once).
   * Throws `TypeError` for a non-JSON response and `InputError` when the request's `validate`
   * refuses it (the task keeps waiting). For a task another replica runs (PostgreSQL), the answer
   * is routed to that replica, taken there exactly once; `true` means this replica last saw the
   * task waiting, and the first answer its owner takes wins.
   *
   * @example
   * supervisor.onEvent((e) => {
   *   if (e.kind === 'custom' && e.event_type === 'input_required') supervisor.provideInput(e.task_id, 'yes');
   * });
   */
  provideInput(taskId: TaskId, response: Json): boolean;
  /**
   * Summed usage reported with `ctx.reportUsage`: one task's (`{ taskId }`), its tree's
   * (`{ taskId, tree: true }`: itself and its descendants), or a thread's tasks' (`{ threadId }`).
   * Fields nobody reported are absent.
   *
   * @example
   * supervisor.usageOf({ taskId: id, tree: true }); // { tokens: 12_400, cost_usd: 0.03 }
   */
  usageOf(query: UsageQuery): TaskUsage;
}
