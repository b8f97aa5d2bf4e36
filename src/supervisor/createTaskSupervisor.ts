import { type Actor, createActor, type Snapshot } from 'xstate';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import { type TaskFinalState, type TaskMachineEvent, taskMachine } from '../../machines/task.machine.js';
import { createInbox } from '../inbox/inbox.js';
import type { InboxSender } from '../inbox/types.js';
import { currentTaskId, currentToolLineage, runAsTask } from '../lineage/lineage.js';
import { MemoryTaskStore } from '../stores/memory.js';
import type { TaskStore } from '../stores/types.js';
import { toJson } from '../wire/jsonSafe.js';
import type { Json, PersistedTaskMeta, TaskEvent, TaskId, TaskSummary } from '../wire/types.js';
import * as cancelOps from './cancel.js';
import { CANCEL_REASON, type ContextHost, PlainTaskContext, SubAgentContext } from './context.js';
import { type TaskEntry, newEntry } from './entry.js';
import { SendError, SpawnError } from './errors.js';
import { IdAllocator } from './ids.js';
import { errorMessage, finish, outcomeOf } from './lifecycle.js';
import { Registry } from './registry.js';
import { recordsOf, restoreRecords } from './restore.js';
import { checkSpawnAllowed, checkSpawnOptions, mergeParentContext } from './spawnChecks.js';
import { SupervisorQueries } from './queries.js';
import { waitFor } from './wait.js';
import type {
  AgentTaskContext,
  SpawnOptions,
  SupervisorOptions,
  SupervisorStats,
  TaskActorRef,
  TaskContext,
  TaskSupervisor,
  WaitOptions,
} from './types.js';

const DEFAULT_GRACE_MS = 30_000;
const MAX_TIMER_MS = 2_147_483_647;
const NEVER = Symbol('never');

/**
 * XState's clock, except that a delay no timer can hold (`Infinity`, or past setTimeout's 32-bit
 * range, which Node would fire after 1 ms) is never scheduled: `cancelGraceMs: Infinity` means
 * "wait for the body forever", as upstream does.
 */
const clock = {
  setTimeout: (fn: (...args: unknown[]) => void, ms: number): unknown =>
    ms > MAX_TIMER_MS ? NEVER : setTimeout(fn, ms),
  clearTimeout: (id: unknown): void => {
    if (id !== NEVER) clearTimeout(id as ReturnType<typeof setTimeout>);
  },
};

/**
 * Creates a supervisor: the actor that runs, tracks, routes, cancels and persists background tasks.
 *
 * Guarantees: every task ends in exactly one of `completed`, `failed`, `cancelled`, whatever its
 * body does (throws, never returns after a cancel, returns a non-JSON value); its custom events
 * precede its one terminal event; the terminal status is in memory and its store write attempted
 * before the terminal event is delivered; `spawn` resolves once the `running` record is durable.
 *
 * @example
 * const { sender, receiver } = createInbox();
 * const supervisor = createTaskSupervisor({ ownerInbox: sender });
 * const id = await supervisor.spawn(
 *   { threadId: 'thread-1', taskType: 'shell', description: 'build' },
 *   async (ctx) => { ctx.emit('progress', { percent: 50 }); return { ok: true }; },
 * );
 * await supervisor.wait(id); // { task_id: 'bg_0', status: 'completed', result: { ok: true }, … }
 * receiver.drain();          // [{ kind: 'custom', … }, { kind: 'completed', … }]
 */
export function createTaskSupervisor(options: SupervisorOptions = {}): TaskSupervisor {
  return new Supervisor(options);
}

class Supervisor extends SupervisorQueries implements TaskSupervisor, ContextHost {
  readonly actor: Actor<typeof supervisorMachine>;
  readonly #store: TaskStore;
  readonly #ids: IdAllocator;
  readonly #grace: number;
  readonly #taskLogic: typeof taskMachine;
  readonly #cancelledRuns = new Set<string>();
  readonly #parented: boolean;
  readonly #initialSnapshot: Snapshot<unknown> & { context?: unknown };
  #ownerInbox: InboxSender | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    const store = options.store ?? new MemoryTaskStore();
    const now = options.now ?? Date.now;
    if (typeof now !== 'function')
      throw new TypeError(`Expected \`now\` to be a function, got ${typeof now}`);
    super(new Registry(), store, now);
    const grace = options.cancelGraceMs ?? DEFAULT_GRACE_MS;
    if (typeof grace !== 'number' || !(grace >= 0)) {
      throw new TypeError(`Expected \`cancelGraceMs\` to be a non-negative number, got ${String(grace)}`);
    }
    this.#store = store;
    this.#ids = new IdAllocator(store);
    this.#grace = grace;
    this.#ownerInbox = options.ownerInbox;
    this.#taskLogic = taskMachine.provide({
      actions: {
        abortBody: ({ context }) => this.#abortBody(context.taskId),
        report: ({ context, event }, params) => this.#onFinal(context.taskId, params.status, event),
      },
    });
    this.#initialSnapshot = createActor(this.#taskLogic, {
      input: { taskId: '', cancelGraceMs: grace },
    }).getPersistedSnapshot() as Snapshot<unknown> & { context?: unknown };
    const logic = supervisorMachine.provide({
      actions: {
        cancelEverything: () => {
          for (const entry of this.registry.byId.values()) this.#requestCancel(entry);
        },
        drain: () => void this.#drain(),
      },
    });
    // With an inspector, task actors join the supervisor's actor system so the inspection stream
    // shows them as its children; without one they skip the parent link (see README: performance).
    this.#parented = options.inspect !== undefined;
    this.actor = createActor(
      logic,
      options.inspect === undefined ? { clock } : { clock, inspect: options.inspect },
    );
    this.actor.start();
  }

  spawn(opts: SpawnOptions, body: (ctx: TaskContext) => unknown): Promise<TaskId> {
    return this.#spawn(opts, body, false);
  }

  spawnAgent(
    opts: Omit<SpawnOptions, 'taskType'>,
    body: (ctx: AgentTaskContext) => unknown,
  ): Promise<TaskId> {
    return this.#spawn({ ...opts, taskType: 'sub_agent' }, body as (ctx: unknown) => unknown, true);
  }

  async #spawn(opts: SpawnOptions, body: (ctx: never) => unknown, agent: boolean): Promise<TaskId> {
    checkSpawnOptions(opts, agent);
    if (typeof body !== 'function')
      throw new TypeError(`Expected \`body\` to be a function, got ${typeof body}`);
    const lineage = currentToolLineage();
    const ambientTask = currentTaskId();
    const pc = mergeParentContext(opts.parentContext, ambientTask, lineage);
    this.#checkSpawn(opts, pc);
    if (!this.#ids.available()) {
      // Only the first spawn of each id block waits; the re-check and minting below stay one synchronous step.
      do await this.#ids.ensure();
      while (!this.#ids.available());
      this.#checkSpawn(opts, pc);
    }
    const id = this.#ids.tryTake()!;
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
    const entry = newEntry({
      id,
      ownerThreadId: opts.threadId,
      name: opts.name,
      summary: Object.freeze(summary),
      local: true,
      inbox: opts.inbox ?? lineage?.inbox ?? this.#agentInboxOf(ambientTask) ?? this.#ownerInbox,
      agentInbox: agent ? createInbox() : undefined,
    });
    this.registry.add(entry);
    // Every task starts in the same state: restoring the precomputed initial snapshot (with this
    // task's context) skips XState's initial microstep, about a fifth of an actor's cost.
    const snapshot = {
      ...this.#initialSnapshot,
      context: { taskId: id, cancelGraceMs: this.#grace },
    } as unknown as Snapshot<unknown>;
    const input = { taskId: id, cancelGraceMs: this.#grace };
    const actor = this.#parented
      ? createActor(this.#taskLogic, { id, input, snapshot, clock, parent: this.actor })
      : createActor(this.#taskLogic, { id, input, snapshot, clock });
    entry.actor = actor;
    actor.start();
    try {
      await this.writer.writeDurable(this.metaOf(entry), false);
    } catch (e) {
      // The task never existed: forget it. Its id stays consumed (ids are never reused).
      entry.done = true;
      entry.earlyFinal = undefined;
      entry.actor = undefined;
      actor.stop();
      this.registry.remove(entry);
      entry.agentInbox?.receiver.close();
      throw new SpawnError('store_failed', `store write failed: ${errorMessage(e)}`, { cause: e });
    }
    entry.committed = true;
    this.counters.spawned++;
    this.notify('spawned', entry);
    if (entry.earlyFinal !== undefined) entry.earlyFinal();
    else this.#startBody(entry, body, agent);
    return id;
  }

  #checkSpawn(opts: SpawnOptions, pc: ReturnType<typeof mergeParentContext>): void {
    if (this.#stopping !== undefined) throw new SpawnError('supervisor_stopped', 'supervisor is stopped');
    checkSpawnAllowed(
      {
        byId: this.registry.byId,
        runningNamed: (t, n) => this.registry.runningNamed(t, n),
        cancelledRuns: this.#cancelledRuns,
      },
      opts.threadId,
      opts.name,
      pc,
    );
  }

  #agentInboxOf(taskId: TaskId | undefined): InboxSender | undefined {
    return taskId === undefined ? undefined : this.registry.byId.get(taskId)?.agentInbox?.sender;
  }

  #startBody(entry: TaskEntry, body: (ctx: never) => unknown, agent: boolean): void {
    const ctx = agent ? new SubAgentContext(entry) : new PlainTaskContext(this, entry);
    let returned: unknown;
    try {
      returned = runAsTask(entry.id, () => body(ctx as never));
    } catch (e) {
      this.#settle(entry, { type: 'task.settled', outcome: { type: 'threw', error: errorMessage(e) } });
      return;
    }
    if (typeof (returned as PromiseLike<unknown> | null)?.then === 'function') {
      Promise.resolve(returned).then(
        (value) => this.#settle(entry, { type: 'task.settled', outcome: outcomeOf(value) }),
        (e: unknown) =>
          this.#settle(entry, { type: 'task.settled', outcome: { type: 'threw', error: errorMessage(e) } }),
      );
    } else {
      this.#settle(entry, { type: 'task.settled', outcome: outcomeOf(returned) });
    }
  }

  #settle(entry: TaskEntry, event: TaskMachineEvent): void {
    // After the grace period the task is already `cancelled`; what the body returns later is ignored.
    if (!entry.done) entry.actor?.send(event);
  }

  emit(entry: TaskEntry, eventType: string, payload: Json | undefined): boolean {
    if (typeof eventType !== 'string') {
      throw new TypeError(
        `Expected \`eventType\` to be a string, got ${eventType === null ? 'null' : typeof eventType}`,
      );
    }
    const json = toJson(payload, 'payload');
    const inbox = entry.inbox;
    if (entry.done || inbox === undefined) return false;
    return this.deliver(inbox, { kind: 'custom', task_id: entry.id, event_type: eventType, payload: json });
  }

  #abortBody(taskId: TaskId): void {
    const entry = this.registry.byId.get(taskId);
    if (entry === undefined) return;
    entry.controller?.abort(CANCEL_REASON);
    const waiters = entry.cancelWaiters;
    entry.cancelWaiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve();
  }

  #onFinal(taskId: TaskId, status: TaskFinalState, event: TaskMachineEvent | { type: string }): void {
    const entry = this.registry.byId.get(taskId);
    if (entry === undefined || entry.done) return;
    if (!entry.committed) {
      // The grace timer ran out before the spawn's record was durable: finish once it is, or never
      // if the write fails (then the task never existed).
      entry.earlyFinal = () => this.#onFinal(taskId, status, event);
      return;
    }
    entry.done = true;
    entry.actor = undefined;
    const { summary, event: terminal } = finish(entry.summary, status, event, this.now());
    this.registry.markTerminal(entry);
    entry.summary = summary;
    entry.cancelWaiters = undefined;
    // A finished sub-agent takes no more messages; its children's late events are undelivered.
    entry.agentInbox?.receiver.close();
    this.notify('updated', entry);
    this.writer.write(this.metaOf(entry), true, () => this.#deliverTerminal(entry, terminal));
  }

  #deliverTerminal(entry: TaskEntry, event: TaskEvent): void {
    entry.delivered = true;
    if (entry.inbox !== undefined) this.deliver(entry.inbox, event);
    const waiters = entry.waiters;
    entry.waiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve(entry.summary);
  }

  #requestCancel = (entry: TaskEntry): boolean => {
    if (entry.done || entry.actor === undefined) return false;
    if (!entry.cancelRequested) {
      entry.cancelRequested = true;
      entry.actor.send({ type: 'task.cancel' });
    }
    return true;
  };

  cancel(taskId: TaskId): boolean {
    const entry = this.registry.byId.get(taskId);
    return entry === undefined ? false : this.#requestCancel(entry);
  }

  cancelTree(taskId: TaskId): number {
    return cancelOps.cancelTree(this.registry, taskId, this.#requestCancel);
  }

  cancelAll(threadId: string): number {
    return cancelOps.cancelAll(this.registry, threadId, this.#requestCancel);
  }

  cancelDescendantsForRun(runId: string): number {
    // The fence first, so a spawn racing the cascade cannot escape the cancelled run.
    this.#cancelledRuns.add(runId);
    return cancelOps.cancelDescendantsForRun(this.registry, runId, this.#requestCancel);
  }

  sendTaskInboxMessage(taskId: TaskId, ownerThreadId: string, fromAgentId: string, content: string): void {
    const entry = this.registry.byId.get(taskId);
    if (entry === undefined || !entry.local) throw new SendError('task_not_found');
    if (entry.ownerThreadId !== ownerThreadId) throw new SendError('not_owner');
    if (entry.summary.status !== 'running') throw new SendError('task_terminated', entry.summary.status);
    if (entry.agentInbox === undefined) throw new SendError('no_inbox');
    const message = {
      kind: 'custom',
      task_id: taskId,
      event_type: 'agent_message',
      payload: { from: fromAgentId, content },
    };
    if (!entry.agentInbox.sender.send(message)) throw new SendError('inbox_closed');
  }

  wait(taskId: TaskId, opts: WaitOptions = {}): Promise<TaskSummary> {
    const entry = this.registry.byId.get(taskId);
    if (entry === undefined) return Promise.reject(new TypeError(`unknown task '${taskId}'`));
    const { timeoutMs } = opts;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
      return Promise.reject(
        new TypeError(`Expected \`timeoutMs\` to be a non-negative number, got ${String(timeoutMs)}`),
      );
    }
    if (entry.delivered) return Promise.resolve(entry.summary);
    return waitFor(entry, opts);
  }

  async restoreForThread(
    threadId: string,
    metas: Iterable<PersistedTaskMeta> | Record<TaskId, PersistedTaskMeta>,
  ): Promise<number> {
    return this.#restore(threadId, recordsOf(metas));
  }

  async loadThread(threadId: string): Promise<number> {
    const records = await this.#store.load(threadId);
    return this.#restore(threadId, records);
  }

  async #restore(threadId: string, records: PersistedTaskMeta[]): Promise<number> {
    if (typeof threadId !== 'string')
      throw new TypeError(`Expected \`threadId\` to be a string, got ${typeof threadId}`);
    // Held remote entries are asked about again: their writer may have died since the last load.
    const running = records.filter(
      (r) => r.status === 'running' && (this.registry.byId.get(r.task_id)?.remote ?? true),
    );
    const elsewhere =
      running.length > 0 && this.#store.liveElsewhere !== undefined
        ? await this.#store.liveElsewhere(running)
        : new Set<string>();
    return restoreRecords(
      {
        byId: this.registry.byId,
        now: this.now,
        bumpPast: (id) => this.#ids.bumpPast(id),
        add: (entry) => {
          this.registry.add(entry);
          this.notify('spawned', entry);
        },
        replaceRemote: (entry, meta) => this.replaceRemote(entry, meta),
        write: (meta) => new Promise<void>((resolve) => this.writer.write(meta, true, () => resolve())),
      },
      threadId,
      records,
      elsewhere,
    );
  }

  setOwnerInbox(sender: InboxSender | undefined): void {
    this.#ownerInbox = sender;
  }

  taskActor(taskId: TaskId): TaskActorRef | undefined {
    return this.registry.byId.get(taskId)?.actor;
  }

  override stats(): SupervisorStats {
    return super.stats();
  }

  stop(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    this.#stopping = new Promise<void>((resolve) => {
      const sub = this.actor.subscribe((snapshot) => {
        if (snapshot.status === 'done') {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    this.actor.send({ type: 'supervisor.stop' });
    return this.#stopping;
  }

  async #drain(): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (const entry of this.registry.byId.values())
      if (entry.local && !entry.delivered) pending.push(waitFor(entry, {}));
    await Promise.all(pending);
    await this.writer.flush();
    this.actor.send({ type: 'supervisor.drained' });
  }
}
