import type { InboxSender } from '../inbox/types.js';
import type { MessageOutboxStore } from '../stores/outbox.js';
import type {
  CancelScope,
  ControlRequest,
  CoordinatedRow,
  CoordinationHandler,
  ReplicaEvent,
  TakenEvent,
  TaskCoordination,
} from '../stores/coordination.js';
import { summaryFromMeta } from '../wire/convert.js';
import { sameJson } from '../wire/sameJson.js';
import type { Json, PersistedTaskMeta, TaskEvent, TaskId } from '../wire/types.js';
import { CANCEL_REASON } from './context.js';
import { isDurableSender, STORED_DELIVERY } from './durableInbox.js';
import { storedEntry, stopTaskActor, type TaskEntry } from './entry.js';
import { SendError } from './errors.js';
import { ReplicaEvents } from './replicaEvents.js';
import { deadLetterRouted } from './routedDeadLetter.js';
import type { IdleWatch } from './idle.js';
import type { Registry } from './registry.js';
import { resolveWaiters } from './wait.js';

/** What the replica link needs from its supervisor. */
export interface ReplicaHost {
  readonly registry: Registry;
  /** Told of a local task settled from the store; holds a thread's idle check during a refresh. */
  readonly idle: IdleWatch;
  ownerInbox(): InboxSender | undefined;
  bumpPast(id: TaskId): void;
  /** Adds a loaded entry and reports it `spawned`. */
  add(entry: TaskEntry): void;
  /** Replaces a remote running entry with its newer record (resolving its waiters). */
  replaceRemote(entry: TaskEntry, meta: PersistedTaskMeta): void;
  notify(type: 'spawned' | 'updated', entry: TaskEntry): void;
  deliver(inbox: InboxSender, event: TaskEvent): boolean;
  /** Requests cancellation of a local entry (`true` while it runs). */
  requestCancel(entry: TaskEntry): boolean;
  /** Answers a local task waiting for input (an answer routed from another replica). */
  provideLocal(entry: TaskEntry, response: Json, request: Json): void;
  /** Delivers a parent's message to a local sub-agent (throws `SendError`). */
  sendLocal(entry: TaskEntry, threadId: string, from: string, content: string): void;
  /** The supervisor's outbox store (the shared database's): where a routed message that cannot be applied becomes a dead letter. */
  outbox(): MessageOutboxStore;
}

/**
 * The supervisor's side of replica coordination, present only when the store has a
 * `coordination` capability: remote tasks held in memory after `loadThread`, control routed to the
 * owning process, events taken from the store, and local memory converging to what the store
 * says when a write was refused or ownership revoked.
 */
export class ReplicaLink implements CoordinationHandler {
  readonly #host: ReplicaHost;
  readonly #coord: TaskCoordination;
  /** Loaded threads and the highest row `seq` seen in each. */
  readonly #loaded = new Map<string, number>();
  readonly #adopted = new Set<string>();
  readonly #refreshing = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  /** Remote tasks this replica answered, with the request it answered. */
  readonly #answered = new WeakMap<TaskEntry, Json>();
  /** Records the store refused: a later writer owned them. */
  refusals = 0;
  /** The replica events so far: counted, warned, handed to listeners. */
  readonly events = new ReplicaEvents();

  constructor(host: ReplicaHost, coord: TaskCoordination) {
    this.#host = host;
    this.#coord = coord;
    coord.attach(this);
  }

  /** Events and control requests not yet stored. */
  backlog(): { events: number; control: number; dropped: number } {
    return this.#coord.backlog?.() ?? { events: 0, control: 0, dropped: 0 };
  }

  /** Retries unstored events and control requests for up to `timeoutMs`; what is left. */
  async flush(timeoutMs: number): Promise<{ events: TaskEvent[]; control: number }> {
    return (await this.#coord.flush?.(timeoutMs)) ?? { events: [], control: 0 };
  }

  connection(event: ReplicaEvent): void {
    this.events.report(event);
  }

  reclaim(threadIds: readonly string[]): void {
    const reclaim = this.#coord.reclaimAndTake;
    if (reclaim === undefined) return;
    const acks = isDurableSender(this.#host.ownerInbox());
    for (const threadId of threadIds) {
      reclaim.call(this.#coord, threadId, acks).then(
        (events) => this.#deliver(events),
        () => undefined,
      );
    }
  }

  /** Orphans dead owners' tasks (in the store), holds the thread's rows, receives its pending events. */
  async loadThread(threadId: string): Promise<number> {
    // As in a refresh: tasks this load finds ended make the thread idle after their events are handed over.
    const release = this.#host.idle.hold(threadId);
    try {
      const rows = await this.#coord.loadThread(threadId);
      const added = this.#apply(threadId, rows);
      const inbox = this.#host.ownerInbox();
      if (inbox !== undefined)
        this.#deliver(await this.#coord.claimAndTake(threadId, isDurableSender(inbox)));
      return added;
    } finally {
      release();
    }
  }

  /** A local task was spawned: its inbox (if any) is known to the store; its thread adopted. */
  spawned(entry: TaskEntry): void {
    if (entry.inbox === undefined) return;
    this.#coord.setLocalInbox(entry.id, isDurableSender(entry.inbox));
    if (!this.#adopted.has(entry.ownerThreadId)) {
      this.#adopted.add(entry.ownerThreadId);
      this.#coord.adoptThread(entry.ownerThreadId);
    }
  }

  /** Stores a custom event; delivers it here only if this process receives the thread's events. */
  emit(entry: TaskEntry, event: TaskEvent): boolean {
    const inbox = entry.inbox;
    this.#coord.appendEvent(entry.ownerThreadId, event).then(
      (taken) => {
        if (taken !== undefined && inbox !== undefined) this.#deliverTo(inbox, taken);
      },
      (error: unknown) => process.emitWarning(`awaken-tasks: an event was not stored: ${String(error)}`),
    );
    return true;
  }

  /**
   * Delivers a local task's terminal event here if its store write took it for this process. When
   * that write failed (it is retried), the event is delivered once a retry takes it.
   */
  deliverTerminal(entry: TaskEntry, writeFailed = false): void {
    const taken = this.#coord.takeTerminal(entry.id);
    if (taken !== undefined) {
      if (entry.inbox !== undefined) this.#deliverTo(entry.inbox, taken);
    } else if (writeFailed) this.#coord.awaitTerminal?.(entry.id);
  }

  terminalTaken(taskId: TaskId): void {
    const entry = this.#host.registry.byId.get(taskId);
    if (entry !== undefined) this.deliverTerminal(entry);
  }

  /** Routes a cancel of remote tasks in `scope` to their owners. */
  cancel(scope: CancelScope): void {
    this.#coord
      .cancel(scope)
      .catch((error: unknown) =>
        process.emitWarning(`awaken-tasks: a cancel request was not stored: ${String(error)}`),
      );
  }

  /**
   * Routes an answer to a remote task that this replica last saw waiting for input; `false` when
   * it is not waiting (as far as this replica knows) or the store cannot route answers. The entry
   * stops showing `waiting` here, so a second answer from this replica returns `false`.
   */
  provideRemote(entry: TaskEntry, response: Json): boolean {
    const provide = this.#coord.provideInput;
    if (provide === undefined || entry.summary.status !== 'running' || entry.summary.phase !== 'waiting')
      return false;
    const { phase: _p, input_request: request = null, ...rest } = entry.summary;
    this.#answered.set(entry, request);
    entry.summary = Object.freeze(rest);
    this.#host.notify('updated', entry);
    provide
      .call(this.#coord, entry.id, response, request)
      .catch((error: unknown) =>
        process.emitWarning(`awaken-tasks: an answer was not stored: ${String(error)}`),
      );
    return true;
  }

  /** Checks and routes a message to a remote sub-agent. Throws `SendError` as a local send would. */
  sendRemote(
    entry: TaskEntry,
    ownerThreadId: string,
    from: string,
    content: string,
    messageId?: string,
  ): void {
    if (entry.ownerThreadId !== ownerThreadId) throw new SendError('not_owner');
    if (entry.summary.status !== 'running') throw new SendError('task_terminated', entry.summary.status);
    if (entry.summary.task_type !== 'sub_agent') throw new SendError('no_inbox');
    this.#coord
      .sendMessage(entry.id, ownerThreadId, from, content, messageId)
      .catch((error: unknown) =>
        process.emitWarning(`awaken-tasks: a message was not stored: ${String(error)}`),
      );
  }

  /** Makes local entries agree with the rows the store refused to overwrite. */
  refused(rows: readonly PersistedTaskMeta[]): void {
    this.refusals += rows.length;
    for (const meta of rows) {
      const entry = this.#host.registry.byId.get(meta.task_id);
      if (entry !== undefined) this.#converge(entry, meta);
    }
  }

  threadChanged(threadId: string): void {
    if (this.#refreshing.has(threadId)) {
      this.#again.add(threadId);
      return;
    }
    const run = this.#refresh(threadId)
      .catch(() => undefined)
      .finally(() => {
        this.#refreshing.delete(threadId);
        if (this.#again.delete(threadId)) this.threadChanged(threadId);
      });
    this.#refreshing.set(threadId, run);
  }

  poll(): void {
    // Loaded threads still holding remote running tasks re-read them (a change may have gone unnoticed).
    for (const threadId of this.#loaded.keys()) {
      for (const e of this.#host.registry.thread(threadId)) {
        if (e.remote) {
          this.threadChanged(threadId);
          break;
        }
      }
    }
  }

  control(requests: readonly ControlRequest[]): void {
    for (const r of requests) {
      const entry = this.#host.registry.byId.get(r.taskId);
      if (entry === undefined || !entry.local) continue;
      if (r.kind === 'cancel') this.#host.requestCancel(entry);
      else if (r.kind === 'input') this.#host.provideLocal(entry, r.response, r.request);
      else {
        try {
          this.#host.sendLocal(entry, r.threadId, r.from, r.content);
        } catch (error) {
          // The sub-agent ended or closed its inbox meanwhile: the sender's entry becomes a dead letter.
          if (r.messageId !== undefined) deadLetterRouted(this.#host.outbox(), entry, r, error);
        }
      }
    }
  }

  revoked(taskIds: readonly TaskId[]): void {
    void this.#coord.rows(taskIds).then(
      (rows) => {
        for (const meta of rows) {
          const entry = this.#host.registry.byId.get(meta.task_id);
          if (entry !== undefined && meta.status !== 'running') this.#converge(entry, meta);
        }
      },
      () => undefined,
    );
  }

  async #refresh(threadId: string): Promise<void> {
    // A remote task's end makes the thread idle only once its stored events reached the inbox.
    const release = this.#host.idle.hold(threadId);
    try {
      await this.#refreshHeld(threadId);
    } finally {
      release();
    }
  }

  async #refreshHeld(threadId: string): Promise<void> {
    const remote: TaskId[] = [];
    for (const e of this.#host.registry.thread(threadId)) if (e.remote) remote.push(e.id);
    const seen = this.#loaded.get(threadId);
    if (remote.length > 0) {
      for (const meta of await this.#coord.rows(remote)) {
        const entry = this.#host.registry.byId.get(meta.task_id);
        if (entry?.remote !== true) continue;
        if (meta.status !== 'running') this.#host.replaceRemote(entry, meta);
        else this.#updateWait(entry, meta);
      }
    }
    if (seen !== undefined) this.#apply(threadId, await this.#coord.rowsAfter(threadId, seen));
    const owner = this.#host.ownerInbox();
    if (owner !== undefined) this.#deliver(await this.#coord.take(threadId, isDurableSender(owner)));
  }

  #apply(threadId: string, rows: readonly CoordinatedRow[]): number {
    const host = this.#host;
    let added = 0;
    let seq = this.#loaded.get(threadId) ?? 0;
    for (const { meta, mine, seq: s } of rows) {
      if (s > seq) seq = s;
      const held = host.registry.byId.get(meta.task_id);
      if (held !== undefined) {
        if (held.remote && meta.status !== 'running') host.replaceRemote(held, meta);
        else if (held.remote) this.#updateWait(held, meta);
        continue;
      }
      host.bumpPast(meta.task_id);
      const entry = storedEntry(meta, threadId);
      // A running row here is live elsewhere (the load orphaned dead owners' rows first).
      entry.remote = meta.status === 'running' || mine;
      host.add(entry);
      added++;
    }
    this.#loaded.set(threadId, seq);
    return added;
  }

  /** A remote running task began or ended a wait for input: its summary follows the record. */
  #updateWait(entry: TaskEntry, meta: PersistedTaskMeta): void {
    const had = entry.summary.input_request;
    const now = meta.input_request;
    if (had === now || (had !== undefined && now !== undefined && sameJson(had, now))) return;
    // The record still shows the request this replica answered (the owner has not taken the
    // answer yet): it stays answered here.
    const answered = this.#answered.get(entry);
    if (answered !== undefined) {
      if (now !== undefined && sameJson(answered, now)) return;
      this.#answered.delete(entry);
    }
    entry.summary = Object.freeze(summaryFromMeta(meta));
    this.#host.notify('updated', entry);
  }

  #deliver(events: readonly TakenEvent[]): void {
    for (const taken of events) {
      const entry = this.#host.registry.byId.get(taken.event.task_id);
      const inbox = entry?.local && entry.inbox !== undefined ? entry.inbox : this.#host.ownerInbox();
      if (inbox !== undefined) this.#deliverTo(inbox, taken);
    }
  }

  /** A stored event to an inbox: a durable inbox acknowledges it when read, or drops it if another claim took over. */
  #deliverTo(inbox: InboxSender, taken: TakenEvent): void {
    const { seq, claim, threadId } = taken;
    let event: TaskEvent = taken.event;
    if (seq !== undefined && isDurableSender(inbox)) {
      // A fresh object per delivery: the inbox tracks deliveries by identity.
      event = { ...event };
      const coord = this.#coord;
      inbox[STORED_DELIVERY](event, {
        current: () => coord.isCurrentClaim(threadId, claim),
        ack: () => coord.ack(seq),
      });
    }
    this.#host.deliver(inbox, event);
  }

  #converge(entry: TaskEntry, meta: PersistedTaskMeta): void {
    if (entry.remote || !entry.local) {
      // Held from a record: only a terminal row replaces it (a running one is another process's).
      if (entry.remote && meta.status !== 'running') this.#host.replaceRemote(entry, meta);
      return;
    }
    // A row still running did not end a task that runs here: refused because this process's epoch
    // was replaced meanwhile, the row is moved to the current epoch by a durable task's next claim.
    if (meta.status === 'running' && !entry.done) return;
    const summary = Object.freeze(summaryFromMeta(meta));
    if (entry.done) {
      entry.summary = summary;
      this.#host.notify('updated', entry);
      return;
    }
    // Still running here, but the store says it ended under another owner: stop the body, agree.
    entry.controller?.abort(CANCEL_REASON);
    const actor = entry.actor;
    entry.done = true;
    entry.actor = undefined;
    if (actor !== undefined) stopTaskActor(actor);
    this.#host.registry.markTerminal(entry);
    entry.summary = summary;
    entry.delivered = true;
    entry.agentInbox?.receiver.close();
    resolveWaiters(entry, summary);
    this.#host.notify('updated', entry);
    this.#host.idle.ended(entry.ownerThreadId, summary);
  }
}
