import type { Pool } from 'pg';
import type { Json, PersistedTaskMeta, TaskEvent, TaskId } from '../../wire/types.js';
import type {
  CancelScope,
  CoordinationBacklog,
  CoordinatedRow,
  CoordinationHandler,
  ReplicaEvent,
  TakenEvent,
  TaskCoordination,
} from '../coordination.js';
import { decodeRows } from '../decode.js';
import { ControlRouter } from './control.js';
import { PgSlots } from './slots.js';
import { EventQueue } from './eventQueue.js';
import type { FenceState } from './fencedPut.js';
import { applyStatusColumn, orphanOwnerless, revokeDead } from './orphan.js';
import { ThreadReceivers } from './receivers.js';
import type { TableNames } from './schema.js';

interface Row {
  task_id: string;
  record: string;
  status: string;
  orphaned_at_ms: string | null;
  owner_epoch: string | null;
  seq: string;
}

/**
 * PostgreSQL's side of replica coordination: loading a thread after orphaning dead owners' tasks,
 * durable per-thread events taken by the thread's receiver, and control requests addressed to the
 * owning epoch. Every notification is a hint: whoever acts re-reads the database, and the polling
 * fallback reads on its own schedule, so a lost notification delays but never loses anything.
 * Events and control requests that fail to write are retried in order (bounded in memory).
 */
export class PgCoordination implements TaskCoordination {
  #handler: CoordinationHandler | undefined;
  readonly #events: EventQueue;
  /** The threads whose events this process receives, and their claims. */
  readonly #receivers: ThreadReceivers;
  readonly #control: ControlRouter;
  /** Concurrency slots shared by the replicas (`concurrency.perType` across them). */
  readonly slots: PgSlots;

  constructor(
    private readonly fence: FenceState,
    private readonly ready: () => Promise<void>,
    private readonly lockGraceMs: number,
    private readonly clock: () => number,
  ) {
    this.#control = new ControlRouter(fence, ready);
    this.slots = new PgSlots(fence, ready, lockGraceMs);
    this.#events = new EventQueue(fence);
    this.#receivers = new ThreadReceivers(fence, ready, this.#events);
  }

  now(): number {
    return this.clock();
  }

  backlog(): CoordinationBacklog {
    return {
      events: this.#events.size,
      control: this.#control.pending,
      dropped: this.#events.dropped + this.#control.dropped,
    };
  }

  async flush(timeoutMs: number): Promise<{ events: TaskEvent[]; control: number }> {
    const deadline = Date.now() + timeoutMs;
    while ((this.#events.size > 0 || this.#control.pending > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
    return { events: this.#events.unstored(), control: this.#control.pending };
  }

  /** The store closes: events and requests still unwritten are given up (their writers are told). */
  close(): void {
    this.#events.close();
    this.#control.close();
    this.slots.close();
  }

  get #pool(): Pool {
    return this.fence.pool;
  }

  get #n(): TableNames {
    return this.fence.names;
  }

  /** Waits for the appends queued so far (a put must not overtake a task's custom events). */
  appended(): Promise<unknown> {
    return this.#events.appended();
  }

  attach(handler: CoordinationHandler): void {
    this.#handler = handler;
  }

  /** Dispatches a notification from the channel. */
  onNotify(payload: string): void {
    let msg: { k?: string; t?: string; e?: string; c?: string; u?: boolean };
    try {
      msg = JSON.parse(payload) as typeof msg;
    } catch {
      return;
    }
    if (msg.k === 't' && typeof msg.t === 'string') {
      // This epoch's own put: its rows are already in memory here, so only events it left for
      // the thread's receiver (which may be this process) are worth a look.
      if (msg.e === this.fence.epoch() && msg.u === false) return;
      this.#handler?.threadChanged(msg.t);
    } else if (msg.k === 'c' && msg.e === this.fence.epoch()) void this.pollControl();
    else if (msg.k === 's') this.slots.wake();
    // Another claim of the thread (another replica's run, or a newer one here) supersedes ours.
    else if (msg.k === 'r' && typeof msg.t === 'string' && msg.e !== this.fence.epoch())
      this.#receivers.claimedElsewhere(msg.t, msg.c);
  }

  /** The polling fallback: control requests, and the events (and claims) of threads this process receives. */
  onTick(): void {
    void this.pollControl();
    void this.#receivers.checkClaims();
    for (const thread of this.#receivers.threads()) this.#handler?.threadChanged(thread);
    this.#handler?.poll();
  }

  /** Takes this epoch's control requests and hands them to the supervisor. */
  pollControl(): Promise<void> {
    return this.#control.poll((requests) => this.#handler?.control(requests));
  }

  async loadThread(threadId: string): Promise<CoordinatedRow[]> {
    await this.ready();
    await revokeDead(this.#pool, this.#n, this.lockGraceMs);
    await orphanOwnerless(this.#pool, this.#n);
    return this.#rowsWhere('owner_thread_id = $1', [threadId]);
  }

  async rows(taskIds: readonly TaskId[]): Promise<PersistedTaskMeta[]> {
    await this.ready();
    const rows = await this.#rowsWhere('task_id = ANY($1::text[])', [taskIds]);
    return rows.map((r) => r.meta);
  }

  async rowsAfter(threadId: string, afterSeq: number): Promise<CoordinatedRow[]> {
    await this.ready();
    return this.#rowsWhere('owner_thread_id = $1 AND seq > $2', [threadId, afterSeq]);
  }

  async #rowsWhere(where: string, params: unknown[]): Promise<CoordinatedRow[]> {
    const res = await this.#pool.query<Row>(
      `SELECT task_id, record, status, orphaned_at_ms, owner_epoch, seq FROM ${this.#n.tasks} WHERE ${where} ORDER BY seq`,
      params,
    );
    const byId = new Map(res.rows.map((r) => [r.task_id, r]));
    const { records } = decodeRows(res.rows);
    return records.map((meta) => {
      const row = byId.get(meta.task_id)!;
      const m = applyStatusColumn(meta, row.status, row.orphaned_at_ms);
      return {
        meta: m,
        mine: m.status === 'running' && this.fence.epochOf.get(m.task_id) === row.owner_epoch,
        seq: Number(row.seq),
      };
    });
  }

  setLocalInbox(taskId: TaskId, acks: boolean): void {
    this.fence.localInbox.set(taskId, acks);
  }

  /** Terminal writes that failed and are retried, whose taken event is still to be delivered. */
  readonly #awaitingTerminal = new Set<TaskId>();

  awaitTerminal(taskId: TaskId): void {
    this.#awaitingTerminal.add(taskId);
  }

  /** After a put of `records` landed: tells the supervisor of awaited terminal events it took. */
  landed(records: readonly PersistedTaskMeta[]): void {
    if (this.#awaitingTerminal.size === 0) return;
    for (const r of records) {
      if (r.status === 'running' || !this.#awaitingTerminal.delete(r.task_id)) continue;
      if (this.fence.tookTerminal.has(r.task_id)) this.#handler?.terminalTaken?.(r.task_id);
    }
  }

  appendEvent(threadId: string, event: TaskEvent): Promise<TakenEvent | undefined> {
    return this.#events.append(threadId, event);
  }

  takeTerminal(taskId: TaskId): TakenEvent | undefined {
    const taken = this.fence.tookTerminal.get(taskId);
    if (taken !== undefined) this.fence.tookTerminal.delete(taskId);
    return taken;
  }

  reclaimAndTake(threadId: string, acks: boolean): Promise<TakenEvent[]> {
    return this.#receivers.reclaimAndTake(threadId, acks);
  }

  claimAndTake(threadId: string, acks: boolean): Promise<TakenEvent[]> {
    return this.#receivers.claimAndTake(threadId, acks);
  }

  isCurrentClaim(threadId: string, claim: string): boolean {
    return this.#receivers.isCurrentClaim(threadId, claim);
  }

  ack(seq: number): void {
    this.#receivers.ack(seq);
  }

  adoptThread(threadId: string): void {
    this.#receivers.adoptThread(threadId);
  }

  take(threadId: string, acks: boolean): Promise<TakenEvent[]> {
    return this.#receivers.take(threadId, acks);
  }

  cancel(scope: CancelScope): Promise<void> {
    return this.#control.cancel(scope);
  }

  sendMessage(
    taskId: TaskId,
    threadId: string,
    from: string,
    content: string,
    messageId?: string,
  ): Promise<void> {
    return this.#control.sendMessage(taskId, threadId, from, content, messageId);
  }

  provideInput(taskId: TaskId, response: Json, request: Json): Promise<void> {
    return this.#control.provideInput(taskId, response, request);
  }

  /** A revoked epoch's tasks: the ones this process inserted under it. */
  revokedTasks(epoch: string): TaskId[] {
    const ids: TaskId[] = [];
    for (const [id, e] of this.fence.epochOf) if (e === epoch) ids.push(id);
    for (const id of ids) {
      this.fence.epochOf.delete(id);
      this.fence.localInbox.delete(id);
    }
    return ids;
  }

  /** Delivers the revocation to the supervisor. */
  onRevoked(epoch: string): void {
    const ids = this.revokedTasks(epoch);
    this.#events.revoked(ids);
    const lapsed = this.#receivers.lapse();
    if (ids.length > 0) this.#handler?.revoked(ids);
    // The threads it received: claimed again under the new epoch where nobody else claimed them.
    if (lapsed.length > 0) this.#handler?.reclaim?.(lapsed);
  }

  /** The link to the database changed. */
  onConnection(event: ReplicaEvent): void {
    this.#handler?.connection?.(event);
  }
}
