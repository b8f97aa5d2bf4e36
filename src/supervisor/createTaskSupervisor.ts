import { toJson } from '../wire/jsonSafe.js';
import { type Actor, createActor } from 'xstate';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import type { InboxSender } from '../inbox/types.js';
import { MemoryMessageOutbox } from '../stores/memoryOutbox.js';
import type { MessageOutboxStore } from '../stores/outbox.js';
import type { TaskStore } from '../stores/types.js';
import type { ReplicaEvent } from '../stores/coordination.js';
import type { Json, PersistedTaskMeta, TaskId, TaskSummary, TaskUsage } from '../wire/types.js';
import type { UsageQuery } from './flowControl.js';
import { openEventStream, type TaskEventStream, type TaskEventStreamOptions } from './eventStream.js';
import { Registry } from './registry.js';
import { recordsOf, restoreRecords } from './restore.js';
import { clock, resolveOptions } from './options.js';
import { ReplicaLink } from './replicas.js';
import { SupervisorShutdown } from './shutdown.js';
import { waitFor } from './wait.js';
import type { ThreadIdleEvent, ThreadIdleListener, WhenIdleOptions } from './idle.js';
import { sendToSubAgent } from './subAgentMessage.js';
import './keptShapes.js';
import { DURABLE_RUNTIME } from '../durable/host.js';
import { DurableRuntime } from '../durable/runtime.js';
import { describeType, durableDefOf } from '../durable/typeDef.js';
import { sameJson } from '../wire/sameJson.js';
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

class Supervisor extends SupervisorShutdown implements TaskSupervisor {
  readonly actor: Actor<typeof supervisorMachine>;
  readonly #store: TaskStore;
  #messages: MessageOutboxStore | undefined;

  constructor(options: SupervisorOptions) {
    const { store, now, cancelGraceMs: grace, clock: timers, stopTimeoutMs } = resolveOptions(options);
    super(
      new Registry(),
      store,
      now,
      grace,
      timers,
      {
        concurrency: options.concurrency,
        budgetPerType: options.budgetPerType,
        sharedSlots: store.coordination?.slots,
      },
      stopTimeoutMs,
    );
    this.#store = store;
    this.ownerInbox = options.ownerInbox;
    if (store.coordination !== undefined) {
      this.route.replicas = new ReplicaLink(
        {
          registry: this.registry,
          idle: this.idle,
          ownerInbox: () => this.ownerInbox,
          bumpPast: (id) => this.ids.bumpPast(id),
          add: (entry) => {
            this.registry.add(entry);
            this.notify('spawned', entry);
          },
          replaceRemote: (entry, meta) => this.replaceRemote(entry, meta),
          notify: (type, entry) => this.notify(type, entry),
          deliver: (inbox, event) => this.deliver(inbox, event),
          requestCancel: (entry) => this.requestCancel(entry),
          provideLocal: (entry, response, request) => {
            // An answer to an earlier request (the task asked again since) is dropped.
            const pending = entry.flow?.input?.request;
            if (pending === undefined || !sameJson(pending, request)) return;
            try {
              this.flow.provideInput(entry.id, response);
            } catch {
              // Refused by the request's `validate`: the task keeps waiting, as for a local answer.
            }
          },
          sendLocal: (entry, threadId, from, content) =>
            sendToSubAgent(entry, entry.id, threadId, from, content),
          outbox: () => this.messages,
        },
        store.coordination,
      );
      const link = this.route.replicas;
      this.writer.onRefused = (rows) => link.refused(rows);
    }
    const logic = supervisorMachine.provide({
      actions: {
        cancelEverything: () =>
          this.cancelBatch(() => {
            for (const entry of this.registry.byId.values()) this.requestCancel(entry, 'shutdown');
          }),
        drain: () => void this.drainTasks(),
      },
    });
    // With an inspector, task actors join the supervisor's actor system so the inspection stream
    // shows them as its children; without one they skip the parent link (see README: performance).
    this.actor = createActor(
      logic,
      options.inspect === undefined ? { clock } : { clock, inspect: options.inspect },
    );
    if (options.inspect !== undefined) this.adoptTaskActorsInto(this.actor);
    this.actor.start();
  }

  spawn(opts: SpawnOptions, body: (ctx: TaskContext) => unknown): Promise<TaskId> {
    return this.spawnTask(opts, body, false);
  }

  spawnAgent(
    opts: Omit<SpawnOptions, 'taskType'>,
    body: (ctx: AgentTaskContext) => unknown,
  ): Promise<TaskId> {
    return this.spawnTask({ ...opts, taskType: 'sub_agent' }, body as (ctx: unknown) => unknown, true);
  }

  #durable: DurableRuntime | undefined;

  /** The durable runtime, made on first use (a supervisor without durable tasks pays nothing). */
  [DURABLE_RUNTIME](): DurableRuntime {
    this.#durable ??= new DurableRuntime({
      now: this.now,
      clock: this.timers,
      store: this.#store.durable,
      spawn: (opts, body, hook) => this.spawnTask(opts, body as (ctx: never) => unknown, false, hook),
      resume: (meta, body, startsLater) =>
        this.resumeTask(meta, body as (ctx: never) => unknown, startsLater),
      awaitSlot: (taskId) => this.awaitSlot(taskId),
      releaseSlot: (taskId) => this.releaseSlot(taskId),
      patch: (taskId, fields, event) => this.patchDurable(taskId, fields, event),
      isLive: (taskId) => {
        const entry = this.registry.byId.get(taskId);
        return entry?.actor !== undefined && !entry.done;
      },
      settled: (taskId) => this.wait(taskId),
      load: (threadId) => this.#store.load(threadId),
      stopping: () => this.isStopping(),
    });
    return this.#durable;
  }

  register(taskType: { readonly taskType: string }): Promise<number> {
    const def = durableDefOf(taskType);
    if (def === undefined) {
      return Promise.reject(
        new TypeError(
          `Expected \`taskType\` to be a durable task type (defineTask with \`durable\`), got ${describeType(taskType)}`,
        ),
      );
    }
    return this[DURABLE_RUNTIME]().register(def);
  }

  get messages(): MessageOutboxStore {
    this.#messages ??= this.#store.messages ?? new MemoryMessageOutbox();
    return this.#messages;
  }

  provideInput(taskId: TaskId, response: Json): boolean {
    const entry = this.registry.byId.get(taskId);
    if (entry?.remote === true && this.replicas !== undefined)
      return this.replicas.provideRemote(entry, toJson(response, 'response'));
    return this.flow.provideInput(taskId, response);
  }

  usageOf(query: UsageQuery): TaskUsage {
    return this.flow.usageOf(query);
  }

  sendTaskInboxMessage(
    taskId: TaskId,
    ownerThreadId: string,
    fromAgentId: string,
    content: string,
    options?: { messageId?: string },
  ): void {
    const entry = this.registry.byId.get(taskId);
    if (
      entry?.remote &&
      this.replicas !== undefined &&
      typeof content === 'string' &&
      typeof fromAgentId === 'string'
    ) {
      const messageId = typeof options?.messageId === 'string' ? options.messageId : undefined;
      this.replicas.sendRemote(entry, ownerThreadId, fromAgentId, content, messageId);
      return;
    }
    sendToSubAgent(entry, taskId, ownerThreadId, fromAgentId, content);
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

  whenIdle(threadId: string, opts?: WhenIdleOptions): Promise<ThreadIdleEvent> {
    return this.idle.whenIdle(threadId, opts);
  }

  onIdle(listener: ThreadIdleListener, filter?: { threadId?: string }): () => void {
    return this.idle.onIdle(listener, filter);
  }

  async restoreForThread(
    threadId: string,
    metas: Iterable<PersistedTaskMeta> | Record<TaskId, PersistedTaskMeta>,
  ): Promise<number> {
    return this.#restore(threadId, recordsOf(metas));
  }

  async loadThread(threadId: string): Promise<number> {
    if (this.replicas !== undefined) {
      if (typeof threadId !== 'string')
        throw new TypeError(`Expected \`threadId\` to be a string, got ${typeof threadId}`);
      return this.replicas.loadThread(threadId);
    }
    const records = await this.#store.load(threadId);
    return this.#restore(threadId, records);
  }

  async #restore(threadId: string, records: PersistedTaskMeta[]): Promise<number> {
    if (typeof threadId !== 'string')
      throw new TypeError(`Expected \`threadId\` to be a string, got ${typeof threadId}`);
    return restoreRecords(
      {
        byId: this.registry.byId,
        now: this.now,
        bumpPast: (id) => this.ids.bumpPast(id),
        add: (entry) => {
          this.registry.add(entry);
          this.notify('spawned', entry);
        },
        replaceRemote: (entry, meta) => this.replaceRemote(entry, meta),
        write: (meta) => new Promise<void>((resolve) => this.writer.write(meta, true, () => resolve())),
      },
      threadId,
      records,
      this.#store,
    );
  }

  events(opts: TaskEventStreamOptions = {}): TaskEventStream {
    return openEventStream(
      {
        onEvent: (listener, filter) => this.observers.add(listener, filter),
        whenStopped: (onStopped) => {
          if (this.actor.getSnapshot().status === 'done') {
            onStopped();
            return () => {};
          }
          const sub = this.actor.subscribe((snapshot) => {
            if (snapshot.status === 'done') onStopped();
          });
          return () => sub.unsubscribe();
        },
        terminalDelivered: (taskId) => this.registry.byId.get(taskId)?.delivered,
      },
      opts,
    );
  }

  setOwnerInbox(sender: InboxSender | undefined): void {
    this.ownerInbox = sender;
  }

  taskActor(taskId: TaskId): TaskActorRef | undefined {
    return this.registry.byId.get(taskId)?.actor;
  }

  override stats(): SupervisorStats {
    const stats = super.stats();
    const link = this.replicas;
    if (link === undefined) return stats;
    const backlog = link.backlog();
    stats.eventsUnstored = backlog.events;
    stats.controlUnstored = backlog.control;
    stats.unstoredDropped = backlog.dropped;
    stats.connectionLosses = link.events.counts.connection_lost;
    stats.reconnects = link.events.counts.reconnected;
    stats.pollingFallbacks = link.events.counts.polling_started;
    return stats;
  }

  onReplicaEvent(listener: (event: ReplicaEvent) => void): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`Expected \`listener\` to be a function, got ${typeof listener}`);
    }
    return this.replicas?.events.add(listener) ?? (() => {});
  }
}
