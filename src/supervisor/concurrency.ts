import type { TaskEntry } from './entry.js';
import { SpawnError } from './errors.js';

/**
 * How many task bodies may run at once (`createTaskSupervisor({ concurrency })`). A spawn past a
 * limit is accepted and waits in the `queued` state; it starts when a slot frees, highest
 * `priority` first and first-in first-out within a priority. A task waiting in
 * `ctx.requestInput` holds no slot; a cancelling one still does until it settles. A durable task
 * holds one only while an attempt is in progress (none while it backs off or waits for its start).
 *
 * @example
 * const supervisor = createTaskSupervisor({
 *   concurrency: { global: 8, perThread: 4, perType: { browser: 2 }, maxQueued: 1000 },
 * });
 */
export interface ConcurrencyLimits {
  /** Bodies running at once in this supervisor. */
  global?: number;
  /** Bodies running at once per owner thread. */
  perThread?: number;
  /** Bodies running at once per task type (`sub_agent` for sub-agents). */
  perType?: Readonly<Record<string, number>>;
  /**
   * How many tasks may wait in the queue. A spawn that would queue past it is refused at once with
   * a `SpawnError` (code `queue_full`), consuming no id: backpressure the caller sees, rather than
   * a spawn that hangs. Default: unbounded.
   */
  maxQueued?: number;
}

function limit(value: unknown, what: string): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !(value >= 1) || (Number.isFinite(value) && !Number.isInteger(value)))
    throw new TypeError(`Expected \`${what}\` to be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * The slots and the queue. Counts running bodies per supervisor, thread and type; a freed slot
 * goes to exactly one next task: first to tasks whose input came while they held no slot, then
 * to the queue in priority then spawn order, skipping tasks whose thread or type is full.
 */
export class ConcurrencyGate {
  readonly #global: number;
  readonly #perThread: number;
  readonly #perType: ReadonlyMap<string, number>;
  readonly #maxQueued: number;
  #running = 0;
  readonly #byThread = new Map<string, number>();
  readonly #byType = new Map<string, number>();
  /** Queued entries from `#head` on, kept sorted by (priority desc, seq asc). */
  #queue: TaskEntry[] = [];
  /** Entries before it have left the queue (started from the front without a splice). */
  #head = 0;
  /** Waiting entries whose input came and that wait for a slot to go on. */
  readonly #resumes: TaskEntry[] = [];
  #pumping = false;
  readonly #start: (entry: TaskEntry) => void;

  /** `start` runs a task given a slot (it already counts): a queued body, or a resumed one. */
  constructor(limits: ConcurrencyLimits, start: (entry: TaskEntry) => void) {
    if (typeof limits !== 'object' || limits === null)
      throw new TypeError(
        `Expected \`concurrency\` to be an object, got ${limits === null ? 'null' : typeof limits}`,
      );
    this.#global = limit(limits.global, 'concurrency.global');
    this.#perThread = limit(limits.perThread, 'concurrency.perThread');
    const perType = new Map<string, number>();
    if (limits.perType !== undefined) {
      if (typeof limits.perType !== 'object' || limits.perType === null)
        throw new TypeError(
          `Expected \`concurrency.perType\` to be an object, got ${String(limits.perType)}`,
        );
      for (const [type, n] of Object.entries(limits.perType))
        perType.set(type, limit(n, `concurrency.perType.${type}`));
    }
    this.#perType = perType;
    const maxQueued = limits.maxQueued ?? Number.POSITIVE_INFINITY;
    if (typeof maxQueued !== 'number' || !(maxQueued >= 0))
      throw new TypeError(
        `Expected \`concurrency.maxQueued\` to be a non-negative number, got ${String(maxQueued)}`,
      );
    this.#maxQueued = maxQueued;
    this.#start = start;
  }

  /** The per-type limits. */
  get perType(): ReadonlyMap<string, number> {
    return this.#perType;
  }

  /** Bodies holding a slot now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting in the queue. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  #fits(threadId: string, type: string): boolean {
    if (this.#running >= this.#global) return false;
    if (
      this.#perThread !== Number.POSITIVE_INFINITY &&
      (this.#byThread.get(threadId) ?? 0) >= this.#perThread
    )
      return false;
    const typeLimit = this.#perType.get(type);
    return typeLimit === undefined || (this.#byType.get(type) ?? 0) < typeLimit;
  }

  /** Throws `SpawnError('queue_full')` when a spawn of this thread and type would have to queue and the queue is full. */
  checkRoom(threadId: string, type: string): void {
    if (this.queued >= this.#maxQueued && !this.#fitsNow(threadId, type))
      throw new SpawnError('queue_full', `the queue is full (${this.queued} tasks wait for a slot)`);
  }

  // After every pump no waiting task fits a free slot (each is held back by its thread or type,
  // or every slot is taken), so a new spawn that fits overtakes nobody who could run.
  #fitsNow(threadId: string, type: string): boolean {
    return this.#fits(threadId, type);
  }

  /** Takes a slot for a new task if one is free and nobody waits for it; `false`: queue it. */
  tryAcquire(entry: TaskEntry): boolean {
    if (!this.#fitsNow(entry.ownerThreadId, entry.summary.task_type)) return false;
    this.#take(entry);
    return true;
  }

  #take(entry: TaskEntry): void {
    this.#running++;
    const t = entry.ownerThreadId;
    this.#byThread.set(t, (this.#byThread.get(t) ?? 0) + 1);
    const type = entry.summary.task_type;
    if (this.#perType.has(type)) this.#byType.set(type, (this.#byType.get(type) ?? 0) + 1);
    entry.flow!.holdsSlot = true;
  }

  /** Adds a task to the queue, in priority then spawn order. */
  enqueue(entry: TaskEntry): void {
    const q = this.#queue;
    const { priority, seq } = entry.flow!;
    let i = q.length;
    // Usually appended: walk back only past lower priorities (or later spawns of its own).
    while (i > this.#head) {
      const f = q[i - 1]!.flow!;
      if (f.priority > priority || (f.priority === priority && f.seq < seq)) break;
      i--;
    }
    q.splice(i, 0, entry);
  }

  /** A waiting task's input came: it goes on at once with a free slot, or when one frees. */
  resume(entry: TaskEntry): void {
    this.#resumes.push(entry);
    this.pump();
  }

  /** Frees the task's slot (it waits for input, or ended) and gives it to the next task. */
  release(entry: TaskEntry): void {
    const flow = entry.flow;
    if (flow === undefined || !flow.holdsSlot) return;
    flow.holdsSlot = false;
    this.#running--;
    const t = entry.ownerThreadId;
    const n = (this.#byThread.get(t) ?? 1) - 1;
    if (n === 0) this.#byThread.delete(t);
    else this.#byThread.set(t, n);
    const type = entry.summary.task_type;
    const m = this.#byType.get(type);
    if (m !== undefined) {
      if (m <= 1) this.#byType.delete(type);
      else this.#byType.set(type, m - 1);
    }
    this.pump();
  }

  /** Forgets a task that ended without its slot (cancelled while queued, or while its answer waited). */
  remove(entry: TaskEntry): void {
    const i = this.#queue.indexOf(entry, this.#head);
    if (i >= 0) this.#takeOut(i);
    const j = this.#resumes.indexOf(entry);
    if (j >= 0) this.#resumes.splice(j, 1);
  }

  /** Takes the queue's entry at `i` out: the front one by moving the head, others by a splice. */
  #takeOut(i: number): void {
    if (i === this.#head) {
      this.#queue[i] = undefined as never;
      this.#head++;
      // Compact once the dead prefix is most of the array.
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
    } else this.#queue.splice(i, 1);
  }

  /** Gives free slots to waiting tasks, one task per slot, until none fits. Re-entrant calls join the loop. */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      let next = this.#next();
      while (next !== undefined) {
        this.#take(next);
        this.#start(next);
        next = this.#next();
      }
    } finally {
      this.#pumping = false;
    }
  }

  #next(): TaskEntry | undefined {
    if (this.#running >= this.#global) return undefined;
    const resumes = this.#resumes;
    for (let i = 0; i < resumes.length; i++) {
      const entry = resumes[i]!;
      if (this.#fits(entry.ownerThreadId, entry.summary.task_type)) {
        resumes.splice(i, 1);
        return entry;
      }
    }
    const queue = this.#queue;
    for (let i = this.#head; i < queue.length; i++) {
      const entry = queue[i]!;
      if (this.#fits(entry.ownerThreadId, entry.summary.task_type)) {
        this.#takeOut(i);
        return entry;
      }
    }
    return undefined;
  }
}
