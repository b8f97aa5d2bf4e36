import { type AnyActorRef, createActor, createEmptyActor, type Snapshot } from 'xstate';
import {
  DEADLINE_EVENT,
  GRACE_EVENT,
  type StopReason,
  type TaskFinalState,
  type TaskMachineEvent,
  type TaskTimerEvent,
  taskMachine,
} from '../../machines/task.machine.js';
import { createInbox } from '../inbox/inbox.js';
import type { InboxSender } from '../inbox/types.js';
import { currentTaskScope, currentToolLineage, runAsTask } from '../lineage/lineage.js';
import type { TaskStore } from '../stores/types.js';
import { toJson } from '../wire/jsonSafe.js';
import type {
  CustomTaskEvent,
  Json,
  PersistedTaskMeta,
  TaskEvent,
  TaskId,
  TaskSummary,
} from '../wire/types.js';
import { CANCEL_REASON, type ContextHost, PlainTaskContext, SubAgentContext } from './context.js';
import { type GraceBatch, newEntry, stopTaskActor, type TaskEntry } from './entry.js';
import { SpawnError } from './errors.js';
import { IdAllocator } from './ids.js';
import { errorMessage, finish, outcomeOf, terminalEventOf } from './lifecycle.js';
import { cancelTree } from './cancel.js';
import { markTimedOut, timeoutReason } from './deadline.js';
import type { TimerClock } from './options.js';
import type { ReplicaLink } from './replicas.js';
import { SupervisorQueries } from './queries.js';
import type { Registry } from './registry.js';
import { checkSpawnAllowed, checkSpawnOptions, mergeParentContext } from './spawnChecks.js';
import type { SpawnOptions } from './types.js';
import { metaFromSummary, summaryFromMeta } from '../wire/convert.js';
import { FlowControl, type FlowOptions } from './flowControl.js';
import type { TaskFlow } from './flow.js';
import type { RequestInputOptions } from './input.js';

/** What a durable spawn adds to `spawnTask`: summary fields, and its row stored once the id is known. */
export interface DurableSpawnHook {
  readonly extra: Readonly<Record<string, unknown>>;
  /** Stores the row; resolves with an existing task's id on an idempotency-key hit. */
  prepare(taskId: TaskId, meta: PersistedTaskMeta): Promise<TaskId | undefined>;
  /** Forgets the row of a spawn that failed after `prepare`. */
  abandon(taskId: TaskId): Promise<void>;
  /** It waits for a start time first: it takes no concurrency slot now (its attempt loop asks for one). */
  readonly startsLater?: boolean;
}

const DEADLINE: TaskTimerEvent = Object.freeze({ type: DEADLINE_EVENT });
const GRACE: TaskTimerEvent = Object.freeze({ type: GRACE_EVENT });
const START: TaskMachineEvent = Object.freeze({ type: 'task.start' });
/** The settle of a body that returned nothing (a parked body, a `void` one): one shared event. */
const SETTLED_VOID: TaskMachineEvent = Object.freeze({
  type: 'task.settled',
  outcome: Object.freeze({
    type: 'returned',
    result: Object.freeze({ status: 'completed', value: null }),
  }),
});
/** One frozen `task.cancel` per reason: a cancel allocates no event. */
const CANCEL = Object.fromEntries(
  (['user', 'parent', 'run', 'timeout', 'budget', 'orphaned', 'shutdown'] as const).map((reason) => [
    reason,
    Object.freeze({ type: 'task.cancel', reason }),
  ]),
) as Record<StopReason, TaskMachineEvent>;

/**
 * The life of each task, from spawn to its one terminal event: registration, the task actor,
 * the durable `running` record, the body, emits, the final state, the terminal write and
 * delivery. The public facade (`createTaskSupervisor`) adds queries over time, restore and stop.
 */
export abstract class TaskRunner extends SupervisorQueries implements ContextHost {
  protected readonly ids: IdAllocator;
  protected readonly cancelledRuns = new Set<string>();
  protected ownerInbox: InboxSender | undefined;
  /** Set when the store coordinates several replicas; `undefined` keeps the single-process path. */
  protected replicas: ReplicaLink | undefined;
  readonly #grace: number;
  readonly #clock: TimerClock;
  /** The task machine with the supervisor's actions, restoring a snapshot as given (see below). */
  readonly #taskLogic: typeof taskMachine;
  /** The snapshot every task starts from (`running.active`), made once; each task gets its context. */
  readonly #initial: Snapshot<unknown> & { context: unknown };
  /** The actor whose system task actors join (one system per supervisor instead of one per task). */
  #parent: AnyActorRef;
  /** The grace batch being filled by the cancel operation now running (see {@link cancelBatch}). */
  #openBatch: GraceBatch | undefined;
  /** The `queued` counterpart of {@link #initial}, made on first use. */
  #queued: (Snapshot<unknown> & { context: unknown }) | undefined;
  /** Queues, input, usage and budgets. */
  protected readonly flow: FlowControl;
  /** Every spawn looks for its budget (limits, or per-type budgets, are configured). */
  readonly #flowAtSpawn: boolean;
  /** Every spawn takes a slot (limits are configured). */
  readonly #gated: boolean;
  /** Tasks the grace timer settled (their body did not return in time), for stop reports. */
  protected readonly forceSettled = new WeakSet<TaskEntry>();

  constructor(
    registry: Registry,
    store: TaskStore,
    now: () => number,
    grace: number,
    clock: TimerClock,
    flowOptions: FlowOptions = {},
  ) {
    super(registry, store, now);
    this.flow = new FlowControl(
      {
        registry,
        now: () => this.now(),
        notify: (entry) => this.notify('updated', entry),
        emit: (entry, type, payload) => this.emit(entry, type, payload),
        startQueued: (entry) => this.#startQueued(entry),
        persist: (entry) => {
          if (entry.committed && !entry.done) this.writer.write(this.metaOf(entry), true);
        },
        cancelTree: (entry, reason) =>
          this.cancelBatch(() => cancelTree(this.registry, entry.id, this.requestCancel, reason)),
        send: (entry, event) => this.#send(entry, event),
      },
      flowOptions,
    );
    this.#flowAtSpawn = this.flow.configured;
    this.#gated = this.flow.gate !== undefined;
    this.ids = new IdAllocator(store);
    this.#grace = grace;
    this.#clock = clock;
    const logic = taskMachine.provide({
      actions: {
        abortBody: ({ context }) =>
          this.#abortBody(context.taskId, context.timedOut === true ? context.timeoutMs : undefined),
        // The stop reason stays the machine's own `assign`: writing it onto the context in place
        // was a tenth of a cancel cheaper (docs/design.md), but it changed snapshots a subscriber
        // already holds, and XState's snapshots are immutable by contract.
        // The deadline and grace timers are the supervisor's, on its clock: a deadline per task that
        // has one, one grace timer per cancel batch.
        armDeadline: ({ context }) => {
          const entry = this.registry.byId.get(context.taskId);
          const left = context.deadlineLeftMs ?? context.timeoutMs;
          if (entry !== undefined && left !== undefined) this.#armDeadline(entry, left);
        },
        disarmDeadline: ({ context }) => {
          const entry = this.registry.byId.get(context.taskId);
          if (entry !== undefined) this.#disarmDeadline(entry);
        },
        armGrace: ({ context }) => {
          const entry = this.registry.byId.get(context.taskId);
          if (entry !== undefined) this.#armGrace(entry);
        },
      },
    });
    this.#initial = createActor(logic, { input: { taskId: '', cancelGraceMs: grace } }).getSnapshot();
    // Every task starts in the same state: its actor is created from the precomputed initial
    // snapshot (with this task's context) instead of running XState's initial microstep and
    // `restoreSnapshot` (which rebuilds the state nodes), about a third of an actor's cost. The
    // snapshot shares the template's immutable parts (state nodes, empty children, tags).
    this.#taskLogic = Object.create(logic, {
      restoreSnapshot: { value: (snapshot: unknown) => snapshot },
    }) as typeof taskMachine;
    this.#parent = createEmptyActor();
    this.#parent.start();
  }

  /** The timers of task actors (grace, deadlines), also the durable runtime's backoff timers. */
  protected get timers(): TimerClock {
    return this.#clock;
  }

  /** Makes task actors children of `parent` in its actor system (for inspection). */
  protected adoptTaskActorsInto(parent: AnyActorRef): void {
    this.#parent.stop();
    this.#parent = parent;
  }

  protected abstract isStopping(): boolean;

  protected async spawnTask(
    opts: SpawnOptions,
    body: (ctx: never) => unknown,
    agent: boolean,
    durable?: DurableSpawnHook,
  ): Promise<TaskId> {
    checkSpawnOptions(opts, agent);
    if (typeof body !== 'function')
      throw new TypeError(`Expected \`body\` to be a function, got ${typeof body}`);
    const lineage = currentToolLineage();
    const ambient = currentTaskScope();
    const ambientTask = ambient?.task_id;
    const pc = mergeParentContext(opts.parentContext, ambient, lineage);
    // A flow only where a limit applies: a slot to take, or a budget (a bare `priority` needs none).
    const budget =
      this.#flowAtSpawn || opts.budget !== undefined
        ? this.flow.budgetFor(opts.taskType, opts.budget)
        : undefined;
    const flowed = this.#gated || budget !== undefined;
    this.#checkSpawn(opts, pc);
    if (!this.ids.available()) {
      // Only the first spawn of each id block waits; the re-check and minting below stay one synchronous step.
      try {
        do await this.ids.ensure();
        while (!this.ids.available());
      } catch (e) {
        throw new SpawnError('store_failed', `store could not allocate ids: ${errorMessage(e)}`, {
          cause: e,
        });
      }
      this.#checkSpawn(opts, pc);
    }
    const id = this.ids.tryTake()!;
    const summary: TaskSummary = {
      task_id: id,
      task_type: opts.taskType,
      description: opts.description,
      status: 'running',
      created_at_ms: this.now(),
    };
    if (
      pc.task_id !== undefined ||
      pc.run_id !== undefined ||
      pc.call_id !== undefined ||
      pc.agent_id !== undefined
    ) {
      summary.parent_context = Object.freeze(pc);
    }
    if (durable !== undefined) {
      // A durable task's row (input, idempotency key) is stored before the task exists; a key hit
      // resolves with the task that has it. The spawn's checks run again after that wait.
      Object.assign(summary, durable.extra);
      const existing = await durable.prepare(id, metaFromSummary(summary, opts.threadId, opts.name));
      if (existing !== undefined) return existing;
      try {
        this.#checkSpawn(opts, pc);
      } catch (e) {
        await durable.abandon(id);
        throw e;
      }
    }
    let flow: TaskFlow | undefined;
    if (flowed) {
      flow = this.flow.newFlow(opts.priority, agent, budget);
      if (budget !== undefined) summary.budget = budget;
    }
    const entry = newEntry({
      id,
      ownerThreadId: opts.threadId,
      name: opts.name,
      summary: Object.freeze(summary),
      local: true,
      inbox: opts.inbox ?? lineage?.inbox ?? this.#agentInboxOf(ambientTask) ?? this.ownerInbox,
      agentInbox: agent ? createInbox() : undefined,
    });
    const timeoutMs = opts.timeoutMs === Number.POSITIVE_INFINITY ? undefined : opts.timeoutMs;
    const actor = this.#launch(entry, flow, body, timeoutMs, durable?.startsLater === true);
    try {
      await this.writer.writeDurable(this.metaOf(entry), false);
    } catch (e) {
      // The task never existed: forget it. Its id stays consumed (ids are never reused).
      if (durable !== undefined) await durable.abandon(id).catch(() => {});
      entry.done = true;
      entry.earlyFinal = undefined;
      entry.actor = undefined;
      this.#clearTimers(entry);
      stopTaskActor(actor);
      if (flow !== undefined) this.flow.onFinal(entry);
      this.registry.remove(entry);
      entry.agentInbox?.receiver.close();
      this.idle.check(opts.threadId);
      const code = (e as { code?: unknown } | null)?.code;
      if (code === 'duplicate_name' || code === 'parent_cancelled')
        throw new SpawnError(code, errorMessage(e), { cause: e });
      throw new SpawnError('store_failed', `store write failed: ${errorMessage(e)}`, { cause: e });
    }
    entry.committed = true;
    this.counters.spawned++;
    this.notify('spawned', entry);
    if (entry.earlyFinal !== undefined) entry.earlyFinal();
    // A queued task's body starts when a slot frees (`#startQueued`).
    else if (flow?.phase !== 'queued') this.#startBody(entry, body, agent);
    return id;
  }

  /**
   * Adds `entry` to the registry, gives it a concurrency slot or queues it with `body` (when it has
   * a `flow`), and starts its actor: in `running.active` with its deadline armed, or in `queued`.
   * The one actor set-up of spawn and resume. A durable task that `startsLater` takes no slot here:
   * its attempt loop asks for one when its start time comes.
   */
  #launch(
    entry: TaskEntry,
    flow: TaskFlow | undefined,
    body: (ctx: never) => unknown,
    timeoutMs: number | undefined,
    startsLater = false,
  ): NonNullable<TaskEntry['actor']> {
    const id = entry.id;
    this.registry.add(entry);
    if (flow !== undefined) {
      entry.flow = flow;
      if (!startsLater && !this.flow.admit(entry)) {
        flow.phase = 'queued';
        flow.body = body;
        entry.summary = Object.freeze({ ...entry.summary, phase: 'queued' });
      }
    }
    this.replicas?.spawned(entry);
    const context =
      timeoutMs === undefined
        ? { taskId: id, cancelGraceMs: this.#grace }
        : { taskId: id, cancelGraceMs: this.#grace, timeoutMs };
    const queued = flow?.phase === 'queued';
    // The template is `running.active`; a queued task's differs only in its value (its snapshot
    // has no `_nodes` of its own: XState derives them from the value on the first transition).
    const snapshot = queued
      ? this.#queuedSnapshot(context)
      : ({ ...this.#initial, context } as unknown as Snapshot<unknown>);
    const actor = createActor(this.#taskLogic, { id, input: context, snapshot, parent: this.#parent });
    entry.actor = actor;
    actor.start();
    // The snapshot skipped `running.active`'s entry, so the deadline is armed here (a queued task's
    // when `task.start` enters `running`).
    if (timeoutMs !== undefined && !queued) this.#armDeadline(entry, timeoutMs);
    return actor;
  }

  /**
   * Runs `body` as the stored task `meta` (durable recovery): a live local entry with an actor, its
   * record written again. Like a spawn it passes the concurrency limits: past one it waits in
   * `queued` for a slot (one that `startsLater`, after a backoff, asks for it then). A held entry
   * without an actor (loaded from the store) is replaced, its waiters kept. `false` when the task
   * already runs here or ended.
   */
  protected resumeTask(meta: PersistedTaskMeta, body: (ctx: never) => unknown, startsLater = false): boolean {
    const held = this.registry.byId.get(meta.task_id);
    // An entry that ended here but whose record the store refused, still `running` there (its
    // attempt fenced by a replaced epoch), is taken up again like a held one.
    const refusedRunning = held?.done === true && held.summary.status === 'running';
    if (held !== undefined && !refusedRunning && (held.actor !== undefined || held.done)) return false;
    if (this.isStopping()) return false;
    if (held !== undefined) this.registry.remove(held);
    this.ids.bumpPast(meta.task_id);
    const entry = newEntry({
      id: meta.task_id,
      ownerThreadId: meta.owner_thread_id,
      name: meta.name,
      summary: Object.freeze(summaryFromMeta(meta)),
      local: true,
      inbox: this.ownerInbox,
      agentInbox: undefined,
    });
    entry.committed = true;
    entry.waiters = held?.waiters;
    // Its stored budget still holds, against its stored usage; the priority is not stored (a held
    // flow's is kept).
    const budget = meta.budget ?? this.flow.budgetFor(meta.task_type, undefined);
    const flow =
      this.flow.gate !== undefined || budget !== undefined
        ? this.flow.newFlow(held?.flow?.priority, false, budget, entry.summary.usage)
        : undefined;
    this.#launch(entry, flow, body, undefined, startsLater);
    this.writer.write(this.metaOf(entry), true);
    this.notify('spawned', entry);
    // A queued task's body starts when a slot frees (`#startQueued`).
    if (flow?.phase !== 'queued') this.#startBody(entry, body, false);
    return true;
  }

  /**
   * Sets a durable task's summary fields (`undefined` removes one), writes its record and sends
   * the machine `event` (`task.queue`, `task.retry`, `task.start`). Nothing once it ended.
   */
  protected patchDurable(
    taskId: TaskId,
    fields: Readonly<Record<string, unknown>>,
    event?: 'task.queue' | 'task.retry' | 'task.start',
  ): void {
    const entry = this.registry.byId.get(taskId);
    if (entry === undefined || entry.done || !entry.local) return;
    const next: Record<string, unknown> = { ...entry.summary };
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) delete next[k];
      else next[k] = v;
    }
    entry.summary = Object.freeze(next as TaskSummary);
    if (event !== undefined) this.#send(entry, { type: event });
    this.notify('updated', entry);
    this.writer.write(this.metaOf(entry), true);
  }

  /** See {@link FlowControl.awaitSlot}: `undefined` when the durable task may claim its attempt now. */
  protected awaitSlot(taskId: TaskId): Promise<void> | undefined {
    const entry = this.registry.byId.get(taskId);
    return entry === undefined || !entry.local ? undefined : this.flow.awaitSlot(entry);
  }

  /** A durable task stopped running until its start time or its next attempt: its slot goes to the next task. */
  protected releaseSlot(taskId: TaskId): void {
    const entry = this.registry.byId.get(taskId);
    if (entry?.local === true) this.flow.releaseSlot(entry);
  }

  /** A queued task got its slot: it enters `running`, and its body starts once its record is durable. */
  #startQueued(entry: TaskEntry): void {
    const flow = entry.flow!;
    flow.phase = undefined;
    flow.activeSinceMs = this.now();
    this.#send(entry, START);
    const { phase: _queued, ...summary } = entry.summary;
    entry.summary = Object.freeze(summary);
    this.notify('updated', entry);
    const body = flow.body;
    flow.body = undefined;
    if (entry.committed && body !== undefined) this.#startBody(entry, body, flow.agent);
  }

  requestInput(entry: TaskEntry, request: unknown, options: RequestInputOptions | undefined): Promise<Json> {
    return this.flow.requestInput(entry, request, options);
  }

  reportUsage(entry: TaskEntry, usage: unknown): void {
    this.flow.reportUsage(entry, usage);
  }

  #checkSpawn(opts: SpawnOptions, pc: ReturnType<typeof mergeParentContext>): void {
    if (this.isStopping()) throw new SpawnError('supervisor_stopped', 'supervisor is stopped');
    checkSpawnAllowed(this.registry, this.cancelledRuns, opts.threadId, opts.name, pc);
    this.flow.gate?.checkRoom(opts.threadId, opts.taskType);
  }

  #agentInboxOf(taskId: TaskId | undefined): InboxSender | undefined {
    return taskId === undefined ? undefined : this.registry.byId.get(taskId)?.agentInbox?.sender;
  }

  #startBody(entry: TaskEntry, body: (ctx: never) => unknown, agent: boolean): void {
    const ctx = agent ? new SubAgentContext(this, entry) : new PlainTaskContext(this, entry);
    let returned: unknown;
    try {
      returned = runAsTask(entry.summary, body, ctx as never);
    } catch (e) {
      this.#settle(entry, { type: 'task.settled', outcome: { type: 'threw', error: errorMessage(e) } });
      return;
    }
    let then: unknown;
    try {
      then = (returned as { then?: unknown } | null | undefined)?.then;
    } catch (e) {
      // A `then` getter that throws (or a revoked Proxy) is the body's failure, not the caller's.
      this.#settle(entry, { type: 'task.settled', outcome: { type: 'threw', error: errorMessage(e) } });
      return;
    }
    if (typeof then !== 'function') {
      this.#settle(entry, { type: 'task.settled', outcome: outcomeOf(returned) });
      return;
    }
    // Promise.resolve never throws: a `then` that throws (even when read again) becomes a rejection.
    Promise.resolve(returned).then(
      (value) =>
        this.#settle(
          entry,
          value === undefined ? SETTLED_VOID : { type: 'task.settled', outcome: outcomeOf(value) },
        ),
      (e: unknown) =>
        this.#settle(entry, { type: 'task.settled', outcome: { type: 'threw', error: errorMessage(e) } }),
    );
  }

  #settle(entry: TaskEntry, event: TaskMachineEvent): void {
    // After the grace period the task is already `cancelled`; what the body returns later is ignored.
    if (!entry.done) this.#send(entry, event);
  }

  /**
   * Sends `event` to the task's actor and, if that took it to a final state, finishes the task.
   * Every event that can end a task goes through here: the machine's final states have no action,
   * the supervisor reads the state once the transition is done.
   */
  #send(entry: TaskEntry, event: TaskMachineEvent | TaskTimerEvent): void {
    const actor = entry.actor;
    // A final actor takes nothing more (its final state is being, or was, handled).
    if (actor === undefined || actor.getSnapshot().status !== 'active') return;
    actor.send(event);
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'done') return;
    const context = snapshot.context;
    this.#onFinal(
      entry,
      snapshot.value as TaskFinalState,
      event,
      context.timedOut === true ? context.timeoutMs : undefined,
      context.stopReason,
    );
  }

  /** A queued task's first snapshot: the `queued` template with its context. */
  #queuedSnapshot(context: object): Snapshot<unknown> {
    this.#queued ??= createActor(Object.getPrototypeOf(this.#taskLogic) as typeof taskMachine, {
      input: { taskId: '', cancelGraceMs: this.#grace },
      snapshot: { ...this.#initial, value: 'queued' } as unknown as Snapshot<unknown>,
    }).getSnapshot();
    return { ...this.#queued, context } as unknown as Snapshot<unknown>;
  }

  #armDeadline(entry: TaskEntry, ms: number): void {
    this.#disarmDeadline(entry);
    entry.deadline = this.#clock.setTimeout(() => {
      entry.deadline = undefined;
      // The timed-out task and the subtree it cancels share one grace timer.
      this.cancelBatch(() => this.#send(entry, DEADLINE));
    }, ms);
  }

  #disarmDeadline(entry: TaskEntry): void {
    if (entry.deadline !== undefined) {
      this.#clock.clearTimeout(entry.deadline);
      entry.deadline = undefined;
    }
  }

  /**
   * Runs `fn` (a cancel operation) with one grace timer for every task it moves to `cancelling`,
   * armed when it returns. A task cancelled outside a batch gets a timer of its own.
   */
  protected cancelBatch<T>(fn: () => T): T {
    if (this.#openBatch !== undefined) return fn();
    const batch: GraceBatch = { members: [], pending: 0, timer: undefined };
    this.#openBatch = batch;
    try {
      return fn();
    } finally {
      this.#openBatch = undefined;
      if (batch.pending > 0) batch.timer = this.#startGrace(batch);
    }
  }

  #armGrace(entry: TaskEntry): void {
    const open = this.#openBatch;
    const batch = open ?? { members: [], pending: 0, timer: undefined };
    batch.members.push(entry);
    batch.pending++;
    entry.grace = batch;
    if (open === undefined) batch.timer = this.#startGrace(batch);
  }

  #startGrace(batch: GraceBatch): unknown {
    return this.#clock.setTimeout(() => {
      batch.timer = undefined;
      for (const entry of batch.members) if (!entry.done) this.#send(entry, GRACE);
    }, this.#grace);
  }

  /** Disarms a finished task's timers: its deadline, and its batch's grace timer once all are done. */
  #clearTimers(entry: TaskEntry): void {
    this.#disarmDeadline(entry);
    const batch = entry.grace;
    if (batch !== undefined) {
      entry.grace = undefined;
      if (--batch.pending === 0 && batch.timer !== undefined) {
        this.#clock.clearTimeout(batch.timer);
        batch.timer = undefined;
      }
    }
  }

  emit(entry: TaskEntry, eventType: string, payload: Json | undefined): boolean {
    // The hot path of a task's progress: the rare branches are calls, so V8 inlines the whole
    // path (context → here → copy → delivery → ring) into the caller.
    if (typeof eventType !== 'string') throw eventTypeError(eventType);
    const json = toJson(payload, 'payload');
    if (entry.done) return false;
    const event: CustomTaskEvent = {
      kind: 'custom',
      task_id: entry.id,
      event_type: eventType,
      payload: json,
    };
    // The latest of each type without a map per emit: the previous event moves to the per-type
    // map only when the type changes (a task emitting one type never allocates it).
    const previous = entry.lastEvent;
    if (previous !== undefined && previous.event_type !== eventType) keepLatestOfType(entry, previous);
    entry.lastEvent = event;
    this.observe(event, entry.ownerThreadId);
    if (this.replicas !== undefined) return this.replicas.emit(entry, event);
    const inbox = entry.inbox;
    return inbox === undefined ? false : this.deliver(inbox, event);
  }

  #abortBody(taskId: TaskId, timedOutAfterMs: number | undefined): void {
    const entry = this.registry.byId.get(taskId);
    if (entry === undefined) return;
    if (timedOutAfterMs !== undefined) {
      // The deadline, not a caller, asked: abort with a TimeoutError, and take the subtree along
      // as `cancelTree` would (this task is already cancelling; its descendants are asked now).
      cancelTree(this.registry, taskId, this.requestCancel);
      entry.controller ??= new AbortController();
      entry.controller.abort(timeoutReason(timedOutAfterMs));
    }
    entry.controller?.abort(CANCEL_REASON);
    const waiters = entry.cancelWaiters;
    entry.cancelWaiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve();
    if (entry.flow !== undefined) this.flow.onCancelling(entry);
  }

  #onFinal(
    entry: TaskEntry,
    status: TaskFinalState,
    event: TaskMachineEvent | { type: string },
    timedOutAfterMs?: number,
    stopReason?: StopReason,
  ): void {
    if (entry.done) return;
    // Its slot (or its place in the queue) is free as soon as the task is final.
    if (entry.flow !== undefined) this.flow.onFinal(entry);
    if (!entry.committed) {
      // The grace timer ran out before the spawn's record was durable: finish once it is, or never
      // if the write fails (then the task never existed).
      entry.earlyFinal = () => this.#onFinal(entry, status, event, timedOutAfterMs, stopReason);
      return;
    }
    if (status === 'cancelled' && stopReason === 'shutdown' && entry.summary.max_attempts !== undefined) {
      // A durable task stopped by `stop()` is not cancelled: it stays `running` in the store for
      // the next process to take up (its row says where it was).
      this.#suspend(entry);
      return;
    }
    entry.done = true;
    entry.actor = undefined;
    this.#clearTimers(entry);
    // Settled by the grace timer, not by its body.
    if (event.type !== 'task.settled' && event.type !== 'task.cancel') this.forceSettled.add(entry);
    const { summary, event: terminal } = finish(entry.summary, status, event, this.now(), stopReason);
    this.registry.markTerminal(entry);
    const final = timedOutAfterMs === undefined ? summary : markTimedOut(summary, timedOutAfterMs);
    entry.summary = final;
    entry.cancelWaiters = undefined;
    // A finished sub-agent takes no more messages; its children's late events are undelivered.
    entry.agentInbox?.receiver.close();
    this.notify('updated', entry);
    this.writer.write(this.metaOf(entry), true, (error) =>
      // A fencing store may have refused the write: then the event reports the store's record.
      this.#deliverTerminal(
        entry,
        entry.summary === final ? terminal : terminalEventOf(entry.summary),
        error !== undefined,
      ),
    );
  }

  #deliverTerminal(entry: TaskEntry, event: TaskEvent | undefined, writeFailed = false): void {
    entry.delivered = true;
    if (event !== undefined) {
      this.observe(event, entry.ownerThreadId);
      if (this.replicas !== undefined) this.replicas.deliverTerminal(entry, writeFailed);
      else if (entry.inbox !== undefined) this.deliver(entry.inbox, event);
    }
    const waiters = entry.waiters;
    entry.waiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve(entry.summary);
    this.idle.ended(entry.ownerThreadId, entry.summary);
  }

  /** Ends a durable task's life in this process without an outcome (see `#onFinal`). */
  #suspend(entry: TaskEntry): void {
    entry.done = true;
    entry.actor = undefined;
    // Its deadline and its share of the stop's grace timer end here, as a final state's do.
    this.#clearTimers(entry);
    this.registry.markTerminal(entry);
    entry.cancelWaiters = undefined;
    entry.delivered = true;
    const waiters = entry.waiters;
    entry.waiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve(entry.summary);
  }

  protected readonly requestCancel = (entry: TaskEntry, reason: StopReason = 'user'): boolean => {
    if (entry.done || entry.actor === undefined) return false;
    if (!entry.cancelRequested) {
      entry.cancelRequested = true;
      this.#send(entry, CANCEL[reason] ?? { type: 'task.cancel', reason });
    }
    return true;
  };
}

function eventTypeError(eventType: unknown): TypeError {
  return new TypeError(
    `Expected \`eventType\` to be a string, got ${eventType === null ? 'null' : typeof eventType}`,
  );
}

/** Files an event that is no longer its task's latest under its type (`latestEvent(id, type)`). */
function keepLatestOfType(entry: TaskEntry, previous: CustomTaskEvent): void {
  (entry.lastByType ??= new Map()).set(previous.event_type, previous);
}
