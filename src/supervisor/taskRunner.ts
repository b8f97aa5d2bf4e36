import type { AnyActorRef } from 'xstate';
import type { InboxSender } from '../inbox/types.js';
import { createInbox } from '../inbox/inbox.js';
import { currentTaskScope, currentToolLineage } from '../lineage/lineage.js';
import type { TaskStore } from '../stores/types.js';
import { metaFromSummary, summaryFromMeta } from '../wire/convert.js';
import type { PersistedTaskMeta, TaskId, TaskSummary } from '../wire/types.js';
import { newEntry, stopTaskActor, type TaskEntry } from './entry.js';
import { SpawnError } from './errors.js';
import type { TaskFlow } from './flow.js';
import type { FlowOptions } from './flowControl.js';
import { IdAllocator } from './ids.js';
import { errorMessage } from './lifecycle.js';
import type { TimerClock } from './options.js';
import type { Registry } from './registry.js';
import { checkSpawnAllowed, checkSpawnOptions, mergeParentContext } from './spawnChecks.js';
import { TaskLife } from './taskLife.js';
import type { SpawnOptions } from './types.js';

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

/**
 * The start of each task: spawn (registration, the task actor, the durable `running` record, the
 * body) and durable recovery. What happens to a live task is {@link TaskLife}'s, its end
 * {@link TaskEnd}'s. The public facade (`createTaskSupervisor`) adds queries over time, restore and stop.
 */
export abstract class TaskRunner extends TaskLife {
  protected readonly ids: IdAllocator;
  protected readonly cancelledRuns = new Set<string>();
  protected ownerInbox: InboxSender | undefined;
  /** Every spawn looks for its budget (limits, or per-type budgets, are configured). */
  readonly #flowAtSpawn: boolean;
  /** Every spawn takes a slot (limits are configured). */
  readonly #gated: boolean;

  constructor(
    registry: Registry,
    store: TaskStore,
    now: () => number,
    grace: number,
    clock: TimerClock,
    flowOptions: FlowOptions = {},
  ) {
    super(registry, store, now, grace, clock, flowOptions);
    this.#flowAtSpawn = this.flow.configured;
    this.#gated = this.flow.gate !== undefined;
    this.ids = new IdAllocator(store);
  }

  /** The timers of task actors (grace, deadlines), also the durable runtime's backoff timers. */
  protected get timers(): TimerClock {
    return this.taskTimers.clock;
  }

  /** Makes task actors children of `parent` in its actor system (for inspection). */
  protected adoptTaskActorsInto(parent: AnyActorRef): void {
    this.actors.adoptInto(parent);
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
      this.taskTimers.clear(entry);
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
    else if (flow?.phase !== 'queued') this.startBody(entry, body, agent);
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
    const queued = flow?.phase === 'queued';
    const actor = this.actors.start(entry, timeoutMs, queued);
    // The snapshot skipped `running.active`'s entry, so the deadline is armed here (a queued task's
    // when `task.start` enters `running`).
    if (timeoutMs !== undefined && !queued) this.taskTimers.armDeadline(entry, timeoutMs);
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
    if (flow?.phase !== 'queued') this.startBody(entry, body, false);
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
    if (event !== undefined) this.sendEvent(entry, { type: event });
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

  #checkSpawn(opts: SpawnOptions, pc: ReturnType<typeof mergeParentContext>): void {
    if (this.isStopping()) throw new SpawnError('supervisor_stopped', 'supervisor is stopped');
    checkSpawnAllowed(this.registry, this.cancelledRuns, opts.threadId, opts.name, pc);
    this.flow.gate?.checkRoom(opts.threadId, opts.taskType);
  }

  #agentInboxOf(taskId: TaskId | undefined): InboxSender | undefined {
    return taskId === undefined ? undefined : this.registry.byId.get(taskId)?.agentInbox?.sender;
  }
}
