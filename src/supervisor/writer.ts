import type { PutResult, TaskStore } from '../stores/types.js';
import type { PersistedTaskMeta, TaskId } from '../wire/types.js';
import type { StoreBacklogEntry } from './types.js';
import { errorMessage } from './lifecycle.js';

type Done = (error?: unknown) => void;

/** The newest unwritten version of one record. */
interface Rec {
  meta: PersistedTaskMeta;
  /** Retried after a failed put (terminal and restored records); a spawn's record is not. */
  retry: boolean;
  /** One callback (the common case) or several; no array per record unless needed. */
  done: Done | Done[] | undefined;
  /** fresh: never failed; queued: part of a failed batch, to be split; suspect: failed alone. */
  state: 'fresh' | 'queued' | 'flight' | 'suspect';
  /** A newer version was written while this one was in flight: this one must never land after it. */
  superseded: boolean;
  /** Failed puts that held this record alone. */
  attempts: number;
  lastError: unknown;
  /** When a suspect is next tried (Date.now() ms). */
  dueAt: number;
}

/** One put in flight. */
interface Flight {
  readonly recs: Rec[];
  /** The same records by id (for a batch of new records, the map they waited in). */
  readonly byId: Map<TaskId, Rec>;
  /** Settles once the put was answered, setting `answer` (it never rejects). */
  readonly outcome: Promise<void>;
  answer:
    | { readonly failed: false; readonly result: PutResult | undefined }
    | { readonly failed: true; readonly error: unknown }
    | undefined;
}

/** What the writer tells its owner. */
export interface StoreWriterHooks {
  /** A fencing store refused these records; each is what the store now holds. Never retried. */
  onRefused?(current: readonly PersistedTaskMeta[]): void;
}

/** The most records one put holds while puts are pipelined. */
const CHUNK = 256;
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 5_000;
/** While someone awaits durability (stop), retries come at least this often. */
const RETRY_MAX_AWAITED_MS = 250;

/** The error a spawn gets when a fencing store refuses its fresh record. */
export class StoreRefusal extends Error {
  override readonly name = 'StoreRefusal';
}

/**
 * The supervisor's write path. Writes made in one tick are coalesced into one `put` (group
 * commit); one `put` is in flight at a time, or up to the store's `pipelinedPuts` when it applies
 * puts in call order (chunks of 256 records during a burst), and a version of a record never
 * lands after a newer one. A failed batch is split in halves until each failing record stands alone, so one record the
 * store keeps rejecting cannot hold healthy ones back. A record that failed alone becomes a
 * suspect: retried alone with its own backoff (terminal and restored records) or reported to its
 * writer (a spawn). New records always go before due retries, so a spawn's write never waits for
 * another record's backoff. Memory stays the source of truth meanwhile.
 */
export class StoreWriter {
  readonly #store: TaskStore;
  readonly #hooks: StoreWriterHooks;
  /** Records never attempted, in write order; taken whole into the next `put` (group commit). */
  #fresh = new Map<TaskId, Rec>();
  /** The puts in flight, oldest first, each with its records (answered in this order). */
  readonly #flights: Flight[] = [];
  /** How many puts may be in flight (a store that applies puts in call order accepts several). */
  readonly #depth: number;
  /** Wakes a pump waiting on the oldest put when a new write could go out beside it. */
  #wake: (() => void) | undefined;
  /** Records of failed puts: pieces of split batches waiting their turn, and suspects. */
  readonly #held = new Map<TaskId, Rec>();
  readonly #queued: Rec[][] = [];
  readonly #suspects = new Set<Rec>();
  #pumping = false;
  #scheduled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Callers awaiting durability (flush): keeps retry timers ref'd and short. */
  #awaiting = 0;
  #progress: (() => void)[] = [];
  /** Failed `put` calls. */
  failures = 0;
  /** Records a fencing store refused. */
  refused = 0;
  /**
   * Replaces the constructor's `onRefused` hook when set (the replica link takes refusals over):
   * called with the records a fencing store refused (as it holds them), before their callbacks.
   */
  onRefused: ((rows: readonly PersistedTaskMeta[]) => void) | undefined;

  constructor(store: TaskStore, hooks: StoreWriterHooks = {}) {
    this.#store = store;
    this.#hooks = hooks;
    const depth = store.pipelinedPuts;
    this.#depth = typeof depth === 'number' && Number.isSafeInteger(depth) && depth > 1 ? depth : 1;
  }

  /**
   * Queues `meta`; `done` runs once the put that decides it was attempted: with no argument once
   * it landed (or a fencing store refused a retried record), with the store's error once it
   * failed alone.
   */
  write(meta: PersistedTaskMeta, retry: boolean, done?: Done): void {
    const id = meta.task_id;
    const cur = this.#fresh.get(id) ?? this.#held.get(id);
    if (cur !== undefined) {
      cur.meta = meta;
      cur.retry ||= retry;
      if (done !== undefined) {
        addDone(cur, done);
        // Someone waits for it: try it now rather than after its backoff.
        if (cur.state === 'suspect') cur.dueAt = 0;
      }
    } else {
      const flying = this.#inFlight(id);
      // A version in flight stays in flight; this newer one follows it and must land after it.
      if (flying !== undefined) flying.superseded = true;
      this.#fresh.set(id, {
        meta,
        retry,
        done,
        state: 'fresh',
        superseded: false,
        attempts: flying?.attempts ?? 0,
        lastError: flying?.lastError,
        dueAt: 0,
      });
    }
    // Pipelined: a full chunk goes out at once, so the database writes it while the caller is
    // still producing the rest (a loop of spawns overlaps with their writes).
    if (this.#depth > 1 && this.#fresh.size >= CHUNK && this.#flights.length < this.#depth) {
      if (!this.#pumping) void this.#pump();
      else this.#send(...this.#next()!);
      return;
    }
    this.#schedule();
  }

  /** Like `write`, resolving when durable and rejecting with the store's error. */
  writeDurable(meta: PersistedTaskMeta, retry: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.write(meta, retry, (error) => (error === undefined ? resolve() : reject(error)));
    });
  }

  /** Records the store has not accepted after failing alone at least once. */
  backlog(): StoreBacklogEntry[] {
    return Array.from(this.#suspects, (r) => ({
      taskId: r.meta.task_id,
      attempts: r.attempts,
      lastError: errorMessage(r.lastError),
    }));
  }

  /** The store's last error (as thrown) for an unwritten record. */
  lastError(taskId: TaskId): unknown {
    return (this.#held.get(taskId) ?? this.#fresh.get(taskId) ?? this.#inFlight(taskId))?.lastError;
  }

  /** How many records wait for a retry. */
  get backlogSize(): number {
    return this.#suspects.size;
  }

  /** Every record not yet written (the newest version of each). */
  #unwritten(): PersistedTaskMeta[] {
    const out = new Map<TaskId, PersistedTaskMeta>();
    for (const f of this.#flights) for (const r of f.recs) if (!r.superseded) out.set(r.meta.task_id, r.meta);
    for (const r of this.#held.values()) out.set(r.meta.task_id, r.meta);
    for (const r of this.#fresh.values()) out.set(r.meta.task_id, r.meta);
    return Array.from(out.values());
  }

  #idle(): boolean {
    return this.#fresh.size === 0 && this.#held.size === 0 && this.#flights.length === 0;
  }

  /**
   * Retries every unwritten record (retries at least every 250 ms, timers keep the process alive)
   * until all landed or `timeoutMs` passed. Returns the records still unwritten.
   */
  async flush(timeoutMs: number): Promise<PersistedTaskMeta[]> {
    const deadline = Date.now() + timeoutMs;
    this.#awaiting++;
    try {
      for (const r of this.#suspects) r.dueAt = 0;
      this.#schedule();
      while (!this.#idle() && Date.now() < deadline) await this.#nextProgress(deadline);
    } finally {
      this.#awaiting--;
      if (!this.#pumping) this.#arm();
    }
    return this.#unwritten();
  }

  #nextProgress(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      this.#progress.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Drops queued writes of `ids` (their callbacks run as attempted: the records are about to be
   * removed from the store) and resolves once no `put` that may hold them is in flight, so a
   * delete issued next is never overtaken by an older write of the same records.
   */
  async discard(ids: ReadonlySet<TaskId>): Promise<void> {
    for (;;) {
      for (const id of ids) {
        for (const r of [this.#fresh.get(id), this.#held.get(id)]) {
          if (r === undefined) continue;
          this.#fresh.delete(id);
          this.#held.delete(id);
          this.#suspects.delete(r);
          for (let i = this.#queued.length - 1; i >= 0; i--) {
            const group = this.#queued[i]!.filter((q) => q !== r);
            if (group.length === 0) this.#queued.splice(i, 1);
            else this.#queued[i] = group;
          }
          finish(r, undefined, false);
        }
      }
      let holds = false;
      for (const f of this.#flights) for (const id of ids) if (f.byId.has(id)) holds = true;
      if (!holds) return;
      // A failed put requeues its records: look again once it settles.
      await new Promise<void>((resolve) => this.#progress.push(resolve));
    }
  }

  #schedule(): void {
    if (this.#pumping) {
      // A pump waiting on its oldest put sends new records beside it, if there is room.
      const wake = this.#wake;
      if (wake !== undefined && this.#flights.length < this.#depth && this.#mayJoin()) {
        this.#wake = undefined;
        wake();
      }
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      for (;;) {
        while (this.#flights.length < this.#depth && this.#mayJoin()) {
          const next = this.#next();
          if (next === undefined) break;
          this.#send(...next);
        }
        const oldest = this.#flights[0];
        if (oldest === undefined) break;
        if (this.#depth > 1) {
          // Wait for the oldest answer, or for a write that can go out beside it meanwhile.
          const woken = new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          await Promise.race([oldest.outcome, woken]);
          this.#wake = undefined;
          if (oldest.answer === undefined) continue;
        } else {
          await oldest.outcome;
        }
        // Decided while still in flight: a callback that writes or discards one of its records
        // meanwhile finds it there (marks it superseded, or waits for it).
        this.#decide(oldest);
        this.#flights.shift();
        const progress = this.#progress;
        this.#progress = [];
        for (const p of progress) p();
      }
    } finally {
      this.#pumping = false;
      this.#arm();
    }
  }

  /**
   * Whether another put may go out beside those in flight. A full chunk always may; a partial
   * batch only behind full chunks (the tail of a burst), never behind another partial one: a
   * trickle of writes keeps waiting for the put in flight and goes out as one batch (group
   * commit), not as a statement per write. Retries wait until nothing is in flight.
   */
  #mayJoin(): boolean {
    if (this.#flights.length === 0 || this.#fresh.size >= CHUNK) return true;
    if (this.#fresh.size === 0) return false;
    for (const f of this.#flights) if (f.recs.length < CHUNK) return false;
    return true;
  }

  /** New records first, then pieces of split batches, then due suspects one at a time. */
  #next(): [Rec[], Map<TaskId, Rec>] | undefined {
    if (this.#fresh.size > 0) {
      if (this.#depth === 1 || this.#fresh.size <= CHUNK) {
        // The whole map goes out as is (no copy per record).
        const batch = this.#fresh;
        this.#fresh = new Map();
        return [Array.from(batch.values()), batch];
      }
      // Pipelined: the first records' answer comes back (and their tasks go on) while the rest
      // are still being written.
      const recs: Rec[] = [];
      const byId = new Map<TaskId, Rec>();
      for (const [id, r] of this.#fresh) {
        this.#fresh.delete(id);
        recs.push(r);
        byId.set(id, r);
        if (recs.length === CHUNK) break;
      }
      return [recs, byId];
    }
    let group = this.#queued.shift();
    if (group === undefined) {
      const now = Date.now();
      for (const r of this.#suspects) {
        if (r.dueAt <= now) {
          this.#suspects.delete(r);
          group = [r];
          break;
        }
      }
      if (group === undefined) return undefined;
    }
    const byId = new Map<TaskId, Rec>();
    for (const r of group) {
      this.#held.delete(r.meta.task_id);
      r.state = 'flight';
      byId.set(r.meta.task_id, r);
    }
    return [group, byId];
  }

  /** The newest version of `id`'s record in flight. */
  #inFlight(id: TaskId): Rec | undefined {
    for (let i = this.#flights.length - 1; i >= 0; i--) {
      const r = this.#flights[i]!.byId.get(id);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Sends `group` as one put; its outcome is decided once every older put's was. */
  #send(group: Rec[], byId: Map<TaskId, Rec>): void {
    let put: Promise<unknown>;
    try {
      put = Promise.resolve(this.#store.put(group.map((r) => r.meta)));
    } catch (e) {
      put = Promise.reject(e);
    }
    const flight: Flight = {
      recs: group,
      byId,
      answer: undefined,
      outcome: put.then(
        (result) => {
          flight.answer = { failed: false, result: result as PutResult | undefined };
        },
        (e: unknown) => {
          flight.answer = { failed: true, error: e ?? new Error('store put failed') };
        },
      ),
    };
    this.#flights.push(flight);
  }

  /** The newest version of `r`'s record when a newer one waits to be written or is in flight. */
  #newer(r: Rec): Rec | undefined {
    const id = r.meta.task_id;
    const newer = this.#fresh.get(id) ?? this.#held.get(id) ?? this.#inFlight(id);
    return newer === r ? undefined : newer;
  }

  /** Gives a superseded version's callbacks to the newer version, which is still pending. */
  #handOver(r: Rec): void {
    const newer = this.#newer(r);
    if (newer === undefined) {
      finish(r, undefined, false);
      return;
    }
    for (const d of callbacks(r)) addDone(newer, d);
    r.done = undefined;
  }

  /** Decides an answered put: its records landed, were refused, or failed (split or retried). */
  #decide(flight: Flight): void {
    const group = flight.recs;
    const answer = flight.answer!;
    if (!answer.failed) {
      this.#landed(group, answer.result);
      return;
    }
    const error = answer.error;
    this.failures++;
    // A version superseded while in flight is dropped: the newer one (pending) replaces it.
    const live: Rec[] = [];
    const dropped: Rec[] = [];
    for (const r of group) (r.superseded ? dropped : live).push(r);
    // The live records are queued again before any callback runs, so a write a callback makes
    // updates the queued version instead of racing it.
    const alone = live.length === 1 ? live[0]! : undefined;
    if (live.length > 1) {
      // Split so that a record the store keeps rejecting ends up alone and the rest go through.
      for (const r of live) {
        r.state = 'queued';
        this.#held.set(r.meta.task_id, r);
      }
      const mid = live.length >> 1;
      this.#queued.unshift(live.slice(0, mid), live.slice(mid));
    } else if (alone !== undefined) {
      alone.attempts++;
      alone.lastError = error;
      if (alone.retry) {
        alone.state = 'suspect';
        const delay = Math.min(RETRY_BASE_MS * 2 ** (alone.attempts - 1), RETRY_MAX_MS);
        alone.dueAt = Date.now() + (this.#awaiting > 0 ? Math.min(delay, RETRY_MAX_AWAITED_MS) : delay);
        this.#held.set(alone.meta.task_id, alone);
        this.#suspects.add(alone);
      }
    }
    for (const r of dropped) this.#handOver(r);
    if (alone !== undefined) finish(alone, error, true);
  }

  #landed(group: Rec[], result: PutResult | undefined): void {
    const refusedList = result?.refused;
    // A store may reject single new records for good (a name taken on another replica, a
    // cancelled run): their writers get that error; the rest of the batch landed.
    const rejected = result?.rejected instanceof Map ? result.rejected : undefined;
    if (!Array.isArray(refusedList) || refusedList.length === 0) {
      for (const r of group) {
        const e = rejected?.get(r.meta.task_id);
        if (e === undefined) finish(r, undefined, false);
        else finish(r, e, true);
      }
      return;
    }
    const refusedIds = new Set(refusedList.map((m) => m.task_id));
    this.refused += refusedIds.size;
    // A refused version that a newer one (still pending) superseded while in flight says nothing
    // about the newer one, which gets its own verdict: memory, already past it, does not go back
    // to what the store held then. Its callbacks wait for the newer version.
    const stale = new Set<TaskId>();
    for (const r of group) {
      const id = r.meta.task_id;
      if (r.superseded && refusedIds.has(id) && this.#newer(r) !== undefined) stale.add(id);
    }
    const current = stale.size === 0 ? refusedList : refusedList.filter((m) => !stale.has(m.task_id));
    // Memory converges to the store before anyone is told the write was decided.
    try {
      if (current.length > 0) (this.onRefused ?? this.#hooks.onRefused)?.(current);
    } catch (e) {
      // The writer must keep going: a failing hook must not strand every later write.
      process.emitWarning(`awaken-tasks: handling refused records failed: ${errorMessage(e)}`);
    }
    for (const r of group) {
      const e = rejected?.get(r.meta.task_id);
      if (e !== undefined) {
        finish(r, e, true);
      } else if (stale.has(r.meta.task_id)) {
        this.#handOver(r);
      } else if (refusedIds.has(r.meta.task_id) && !r.retry) {
        finish(r, new StoreRefusal(`store refused record '${r.meta.task_id}'`), true);
      } else {
        finish(r, undefined, false);
      }
    }
  }

  /** Arms the timer for the earliest suspect: ref'd while someone awaits durability. */
  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#fresh.size > 0 || this.#queued.length > 0) {
      this.#schedule();
      return;
    }
    if (this.#suspects.size === 0) return;
    let at = Number.POSITIVE_INFINITY;
    for (const r of this.#suspects) at = Math.min(at, r.dueAt);
    if (this.#awaiting > 0) at = Math.min(at, Date.now() + RETRY_MAX_AWAITED_MS);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        void this.#pump();
      },
      Math.max(0, at - Date.now()),
    );
    // Retries nobody awaits must not keep an otherwise finished process alive.
    if (this.#awaiting === 0) this.#timer.unref?.();
  }
}

function addDone(r: Rec, done: Done): void {
  const d = r.done;
  if (d === undefined) r.done = done;
  else if (typeof d === 'function') r.done = [d, done];
  else d.push(done);
}

function callbacks(r: Rec): Done[] {
  const d = r.done;
  return d === undefined ? [] : typeof d === 'function' ? [d] : d;
}

function finish(r: Rec, error: unknown, failed: boolean): void {
  const done = r.done;
  r.done = undefined;
  if (done === undefined) return;
  if (typeof done === 'function') failed ? done(error) : done();
  else for (const d of done) failed ? d(error) : d();
}
