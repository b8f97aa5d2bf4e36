import { randomUUID } from 'node:crypto';
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
  /** Threads this process receives events of, with its current claim token. */
  readonly #receiving = new Map<string, string>();
  /** Acknowledged event seqs waiting for the next batch delete. */
  #acks: number[] = [];
  /** Acknowledgements on their way to the database (settled when written or failed). */
  readonly #acking = new Set<Promise<void>>();
  readonly #events: EventQueue;
  /** The claims of an ended epoch, per thread, until reclaimed. */
  readonly #lapsed = new Map<string, string>();
  readonly #control: ControlRouter;
  /** Concurrency slots shared by the replicas (`concurrency.perType` across them). */
  readonly slots: PgSlots;
  /** Serializes takes per thread. */
  readonly #takes = new Map<string, Promise<unknown>>();

  constructor(
    private readonly fence: FenceState,
    private readonly ready: () => Promise<void>,
    private readonly lockGraceMs: number,
    private readonly clock: () => number,
  ) {
    this.#control = new ControlRouter(fence, ready);
    this.slots = new PgSlots(fence, ready, lockGraceMs);
    this.#events = new EventQueue(fence);
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
    else if (
      msg.k === 'r' &&
      typeof msg.t === 'string' &&
      msg.e !== this.fence.epoch() &&
      this.#receiving.get(msg.t) !== msg.c
    )
      this.#receiving.delete(msg.t);
  }

  /** The polling fallback: control requests, and the events (and claims) of threads this process receives. */
  onTick(): void {
    void this.pollControl();
    void this.#checkClaims();
    for (const thread of this.#receiving.keys()) this.#handler?.threadChanged(thread);
    this.#handler?.poll();
  }

  /**
   * Drops the claims another claim replaced while its notification was lost: an inbox here then
   * stops handing out the events it took under them (the other run has them).
   */
  async #checkClaims(): Promise<void> {
    if (this.#receiving.size === 0) return;
    const asked = new Map(this.#receiving);
    const res = await this.#pool
      .query<{ thread_id: string; claim: string }>(
        `SELECT thread_id, claim FROM ${this.#n.receivers} WHERE thread_id = ANY($1::text[])`,
        [[...asked.keys()]],
      )
      .catch(() => undefined);
    for (const { thread_id: thread, claim } of res?.rows ?? []) {
      const mine = asked.get(thread);
      // Unchanged here since the read (a newer claim of this process may be landing).
      if (mine !== undefined && claim !== mine && this.#receiving.get(thread) === mine)
        this.#receiving.delete(thread);
    }
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

  async reclaimAndTake(threadId: string, acks: boolean): Promise<TakenEvent[]> {
    const old = this.#lapsed.get(threadId);
    this.#lapsed.delete(threadId);
    if (old === undefined || this.#receiving.has(threadId)) return [];
    const claim = randomUUID();
    const res = await this.#pool.query(
      `UPDATE ${this.#n.receivers} SET epoch = $2, claim = $3 WHERE thread_id = $1 AND claim = $4
       RETURNING coalesce(pg_notify($5, json_build_object('k', 'r', 't', $1::text, 'c', $3::text, 'e', $2::text)::text)::text, '')`,
      [threadId, this.fence.epoch(), claim, old, this.#n.channel],
    );
    if (res.rowCount === 0) return [];
    this.#receiving.set(threadId, claim);
    return this.#take(threadId, claim, acks, true);
  }

  async claimAndTake(threadId: string, acks: boolean): Promise<TakenEvent[]> {
    await this.ready();
    const claim = randomUUID();
    // Waits for appends and puts holding the row (FOR SHARE), so each event is taken exactly once.
    await this.#pool.query(
      `INSERT INTO ${this.#n.receivers} (thread_id, epoch, claim) VALUES ($1, $2, $3)
       ON CONFLICT (thread_id) DO UPDATE SET epoch = excluded.epoch, claim = excluded.claim
       RETURNING coalesce(pg_notify($4, json_build_object('k', 'r', 't', $1::text, 'c', $3::text, 'e', $2::text)::text)::text, '')`,
      [threadId, this.fence.epoch(), claim, this.#n.channel],
    );
    this.#receiving.set(threadId, claim);
    return this.#take(threadId, claim, acks, true);
  }

  isCurrentClaim(threadId: string, claim: string): boolean {
    return this.#receiving.get(threadId) === claim;
  }

  ack(seq: number): void {
    if (this.#acks.push(seq) > 1) return;
    const written = new Promise<void>((resolve) => {
      queueMicrotask(() => {
        const seqs = this.#acks;
        this.#acks = [];
        this.#pool.query(`DELETE FROM ${this.#n.events} WHERE seq = ANY($1::bigint[])`, [seqs]).then(
          () => resolve(),
          () => resolve(),
        );
      });
    });
    this.#acking.add(written);
    void written.then(() => this.#acking.delete(written));
  }

  adoptThread(threadId: string): void {
    const n = this.#n;
    const claim = randomUUID();
    this.#events.after(async () => {
      const res = await this.#pool.query<{ epoch: string; claim: string }>(
        `WITH ins AS (
           INSERT INTO ${n.receivers} (thread_id, epoch, claim) VALUES ($1, $2, $3)
           ON CONFLICT (thread_id) DO NOTHING RETURNING epoch, claim
         )
         SELECT epoch, claim FROM ins UNION ALL SELECT epoch, claim FROM ${n.receivers} WHERE thread_id = $1`,
        [threadId, this.fence.epoch(), claim],
      );
      const mine = res.rows.find((r) => r.epoch === this.fence.epoch());
      if (mine !== undefined) this.#receiving.set(threadId, mine.claim);
    });
  }

  take(threadId: string, acks: boolean): Promise<TakenEvent[]> {
    const claim = this.#receiving.get(threadId);
    if (claim === undefined) return Promise.resolve([]);
    return this.#take(threadId, claim, acks, false);
  }

  /**
   * Takes the thread's events for `claim`, in order: those nobody took, or (`all`, a new claim)
   * every one not yet consumed. Acknowledging receivers leave them stored, taken by the claim;
   * others consume them.
   */
  #take(threadId: string, claim: string, acks: boolean, all: boolean): Promise<TakenEvent[]> {
    const prev = this.#takes.get(threadId) ?? Promise.resolve();
    const n = this.#n;
    const which = `thread_id = $1 ${all ? '' : 'AND taken_by IS NULL'}
      AND EXISTS (SELECT 1 FROM ${n.receivers} r WHERE r.thread_id = $1 AND r.claim = $2)`;
    const run = prev.then(async () => {
      // A new claim takes taken events too: those an inbox here already handed out are consumed
      // first (their acknowledgements land), or they would be delivered again. Read after the
      // thread's earlier take, whose deliveries may have acknowledged more; bounded, because a
      // stuck acknowledgement only risks a second delivery, while a claim that never takes loses
      // the thread's events.
      if (all && this.#acking.size > 0) await settledWithin(Promise.all(this.#acking), ACK_WAIT_MS);
      const res = acks
        ? await this.#pool.query<{ seq: string; body: string }>(
            `UPDATE ${n.events} SET taken_by = $2 WHERE ${which} RETURNING seq, body`,
            [threadId, claim],
          )
        : await this.#pool.query<{ seq: string; body: string }>(
            `DELETE FROM ${n.events} WHERE ${which} RETURNING seq, body`,
            [threadId, claim],
          );
      return res.rows
        .map((r) => ({ seq: Number(r.seq), event: JSON.parse(r.body) as TaskEvent }))
        .sort((a, b) => a.seq - b.seq)
        .map((r): TakenEvent => ({ threadId, event: r.event, claim, seq: acks ? r.seq : undefined }));
    });
    const settled = run.catch(() => undefined);
    this.#takes.set(threadId, settled);
    void settled.then(() => {
      if (this.#takes.get(threadId) === settled) this.#takes.delete(threadId);
    });
    return run;
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
    for (const [thread, claim] of this.#receiving) this.#lapsed.set(thread, claim);
    this.#receiving.clear();
    if (ids.length > 0) this.#handler?.revoked(ids);
    // The threads it received: claimed again under the new epoch where nobody else claimed them.
    if (this.#lapsed.size > 0) this.#handler?.reclaim?.([...this.#lapsed.keys()]);
  }

  /** The link to the database changed. */
  onConnection(event: ReplicaEvent): void {
    this.#handler?.connection?.(event);
  }
}

/** How long a new claim waits for this process's acknowledgements in flight before taking. */
const ACK_WAIT_MS = 5_000;

/** Resolves when `p` settles or after `ms`, whichever comes first. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    p.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
