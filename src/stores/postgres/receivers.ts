import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { TaskEvent } from '../../wire/types.js';
import type { TakenEvent } from '../coordination.js';
import type { EventQueue } from './eventQueue.js';
import type { FenceState } from './fencedPut.js';
import type { TableNames } from './schema.js';

/**
 * The threads whose events this process receives, one claim token each: claiming a thread (a
 * load, a reclaim after this process's epoch ended, the adoption of a thread a local task spawned
 * on), taking its stored events in order under the claim, acknowledging what a durable inbox
 * handed out, and dropping a claim another one replaced (by its notification, or by the polling
 * fallback when that was lost).
 */
export class ThreadReceivers {
  /** Threads this process receives events of, with its current claim token. */
  readonly #receiving = new Map<string, string>();
  /** Acknowledged event seqs waiting for the next batch delete. */
  #acks: number[] = [];
  /** Acknowledgements on their way to the database (settled when written or failed). */
  readonly #acking = new Set<Promise<void>>();
  /** The claims of an ended epoch, per thread, until reclaimed. */
  readonly #lapsed = new Map<string, string>();
  /** Serializes takes per thread. */
  readonly #takes = new Map<string, Promise<unknown>>();

  constructor(
    private readonly fence: FenceState,
    private readonly ready: () => Promise<void>,
    private readonly events: EventQueue,
  ) {}

  get #pool(): Pool {
    return this.fence.pool;
  }

  get #n(): TableNames {
    return this.fence.names;
  }

  /** The threads received here now. */
  threads(): IterableIterator<string> {
    return this.#receiving.keys();
  }

  /** Another epoch claimed `threadId` with `claim` (its notification): ours, if different, is over. */
  claimedElsewhere(threadId: string, claim: string | undefined): void {
    if (this.#receiving.get(threadId) !== claim) this.#receiving.delete(threadId);
  }

  /**
   * This process's epoch ended: its claims lapse (kept per thread, to be claimed again under the
   * new epoch where nobody else claimed them). Returns the threads to reclaim.
   */
  lapse(): string[] {
    for (const [thread, claim] of this.#receiving) this.#lapsed.set(thread, claim);
    this.#receiving.clear();
    return [...this.#lapsed.keys()];
  }

  /**
   * Drops the claims another claim replaced while its notification was lost: an inbox here then
   * stops handing out the events it took under them (the other run has them).
   */
  async checkClaims(): Promise<void> {
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

  /** A local task spawned on `threadId`: it is received here unless another process claimed it. */
  adoptThread(threadId: string): void {
    const n = this.#n;
    const claim = randomUUID();
    this.events.after(async () => {
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
