import type { InboxReceiver } from '../inbox/types.js';
import { INPUT_REQUIRED_EVENT } from '../supervisor/input.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { Json } from '../wire/types.js';
import { member } from './validation.js';

const TASK_KINDS = new Set(['custom', 'completed', 'failed', 'cancelled']);
const TERMINAL_KINDS = new Set(['completed', 'failed', 'cancelled']);
const DEFAULT_MAX_TURNS = 10;

/** The task a payload is an event of (an `agent_message` is a message, not a task event). */
function taskOf(payload: Json): string | undefined {
  const kind = member(payload, 'kind');
  const taskId = member(payload, 'task_id');
  if (typeof kind !== 'string' || !TASK_KINDS.has(kind) || typeof taskId !== 'string') return undefined;
  if (kind === 'custom' && member(payload, 'event_type') === 'agent_message') return undefined;
  return taskId;
}

/**
 * Inbox payloads held between turns of a run that continues until idle. A task's events are held
 * until its terminal event arrives (or its `input_required` event: it waits for an answer); then
 * they form one unit. Anything else (a message, a direct-messages payload) is a unit of its own.
 */
export class WakeQueue {
  /** Events of tasks whose terminal event has not arrived, by task, in arrival order. */
  readonly #open = new Map<string, Json[]>();
  /** Complete units, in the order they became complete. */
  readonly #ready: Json[][] = [];

  add(payloads: readonly Json[]): void {
    for (const p of payloads) {
      const taskId = taskOf(p);
      if (taskId === undefined) {
        this.#ready.push([p]);
        continue;
      }
      let events = this.#open.get(taskId);
      if (events === undefined) this.#open.set(taskId, (events = []));
      events.push(p);
      // A task asking for input (`ctx.requestInput`) waits for an answer: what it emitted so far
      // is a unit now, instead of at its end.
      if (
        TERMINAL_KINDS.has(member(p, 'kind') as string) ||
        member(p, 'event_type') === INPUT_REQUIRED_EVENT
      ) {
        this.#open.delete(taskId);
        this.#ready.push(events);
      }
    }
  }

  get hasReady(): boolean {
    return this.#ready.length > 0;
  }

  /** The next complete unit, or `undefined`. */
  take(): Json[] | undefined {
    return this.#ready.shift();
  }

  /** Everything held, complete or not, in arrival order of units (emptying the queue). */
  takeAll(): Json[] {
    const out = this.#ready.flat();
    for (const events of this.#open.values()) out.push(...events);
    this.#ready.length = 0;
    this.#open.clear();
    return out;
  }
}

/**
 * Options of `runAgentLoop`'s `untilIdle`: the run does not end `awaiting_tasks`; it waits for
 * the next task end (or message) and takes another turn with it, within these bounds.
 *
 * @example
 * const untilIdle: UntilIdleOptions = { maxTurns: 5, maxIdleMs: 10 * 60_000 };
 */
export interface UntilIdleOptions {
  /**
   * The most turns the run takes, its first one included (a turn: model steps up to a natural
   * end). Default 10. Reached with work pending, the run ends `waiting` / `awaiting_tasks`.
   */
  maxTurns?: number;
  /**
   * The longest wait, in milliseconds, for the next wake-up. Past it the run ends `waiting` /
   * `awaiting_tasks`. Default: no limit (the run's `signal` still ends it).
   */
  maxIdleMs?: number;
  /**
   * While it waits, the run re-loads the thread (`supervisor.loadThread`) this often, in
   * milliseconds: with a store shared by several processes, that orphans the tasks of a process
   * that died (their `failed` ends then wake the run) and reads ends a missed notification did not
   * bring. Default 10 000; `Infinity` never.
   */
  reloadMs?: number;
  /**
   * Start by waiting instead of calling the model: the run resumes a thread whose earlier run
   * ended `awaiting_tasks` (on this replica or another) and its first turn is the first wake-up.
   * Default `false`.
   */
  waitFirst?: boolean;
}

/** Why a run that continues until idle stopped taking turns. */
export type UntilIdleStop = 'idle' | 'max_turns' | 'max_idle' | 'cancelled';

/** What the next turn starts with, or why there is none. */
export type NextTurn = { payloads: Json[] } | { stop: UntilIdleStop };

type Woken = 'payload' | 'closed' | 'idle' | 'timeout' | 'aborted' | 'reload';

const DEFAULT_RELOAD_MS = 10_000;

/**
 * The waiting side of a run that continues until idle: holds the inbox's payloads by task, and at
 * each natural end yields the next unit — one ended task's events, or one message — or the reason
 * to stop. Counts turns.
 */
export class UntilIdle {
  readonly queue = new WakeQueue();
  readonly maxTurns: number;
  readonly maxIdleMs: number;
  readonly waitFirst: boolean;
  readonly reloadMs: number;
  turns = 0;
  readonly #supervisor: TaskSupervisor;
  readonly #threadId: string;
  readonly #receiver: InboxReceiver;
  #closed = false;
  /** When the current idle period passes `maxIdleMs` (a reload does not restart it). */
  #idleUntil: number | undefined;

  constructor(supervisor: TaskSupervisor, threadId: string, receiver: InboxReceiver, opts: UntilIdleOptions) {
    this.#supervisor = supervisor;
    this.#threadId = threadId;
    this.#receiver = receiver;
    this.maxTurns = opts.maxTurns ?? DEFAULT_MAX_TURNS;
    this.maxIdleMs = opts.maxIdleMs ?? Number.POSITIVE_INFINITY;
    this.waitFirst = opts.waitFirst ?? false;
    this.reloadMs = opts.reloadMs ?? DEFAULT_RELOAD_MS;
  }

  /** Moves what the inbox holds into the queue. */
  pull(): void {
    this.queue.add(this.#receiver.drain());
  }

  /** At a natural end: the next turn's payloads, once there is one; or why the run stops. */
  async next(signal: AbortSignal): Promise<NextTurn> {
    for (;;) {
      if (signal.aborted) return { stop: 'cancelled' };
      this.pull();
      if (this.queue.hasReady) {
        if (this.turns >= this.maxTurns) return { stop: 'max_turns' };
        this.turns++;
        return { payloads: this.queue.take()! };
      }
      if (!this.#supervisor.hasRunning(this.#threadId)) {
        // Ended tasks may still be delivering their terminal events: idle means they arrived.
        try {
          await this.#supervisor.whenIdle(this.#threadId, { signal });
        } catch {
          return { stop: 'cancelled' };
        }
        this.pull();
        if (this.queue.hasReady) continue;
        if (this.#supervisor.hasRunning(this.#threadId)) continue;
        return { stop: 'idle' };
      }
      if (this.turns >= this.maxTurns) return { stop: 'max_turns' };
      const woken = await this.#wait(signal);
      if (woken === 'timeout') return { stop: 'max_idle' };
      if (woken === 'aborted') return { stop: 'cancelled' };
      if (woken === 'reload') {
        // A failing load (the store is down for a moment) is retried at the next interval.
        await this.#supervisor.loadThread(this.#threadId).catch(() => undefined);
      }
    }
  }

  /** Waits for a payload in the inbox, the thread turning idle, the idle limit or the run's abort. */
  async #wait(signal: AbortSignal): Promise<Woken> {
    const stop = new AbortController();
    const waits: Promise<Woken>[] = [
      this.#supervisor.whenIdle(this.#threadId, { signal: stop.signal }).then(
        () => 'idle',
        () => 'aborted',
      ),
      new Promise<Woken>((resolve) => {
        if (signal.aborted) resolve('aborted');
        signal.addEventListener('abort', () => resolve('aborted'), { once: true, signal: stop.signal });
      }),
    ];
    let received: Promise<Woken> | undefined;
    if (!this.#closed) {
      received = this.#receiver.recv(stop.signal).then((p) => {
        if (p === undefined) {
          if (!stop.signal.aborted) this.#closed = true;
          return 'closed';
        }
        this.queue.add([p]);
        return 'payload';
      });
      waits.push(received);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (this.#idleUntil === undefined) this.#idleUntil = Date.now() + this.maxIdleMs;
    const left = this.#idleUntil - Date.now();
    if (left <= 2_147_483_647) {
      waits.push(
        new Promise<Woken>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), Math.max(0, left));
        }),
      );
    }
    let reload: ReturnType<typeof setTimeout> | undefined;
    if (this.reloadMs <= 2_147_483_647) {
      waits.push(
        new Promise<Woken>((resolve) => {
          reload = setTimeout(() => resolve('reload'), this.reloadMs);
        }),
      );
    }
    const woken = await Promise.race(waits);
    if (timer !== undefined) clearTimeout(timer);
    if (reload !== undefined) clearTimeout(reload);
    if (woken !== 'reload') this.#idleUntil = undefined;
    stop.abort();
    // A payload the receive took just before the abort is queued before the next drain.
    if (received !== undefined) await received;
    return woken;
  }
}

/**
 * Checks `runAgentLoop`'s `untilIdle` option.
 *
 * @example
 * checkUntilIdle({ maxTurns: 3 }); // ok; checkUntilIdle({ maxTurns: 0 }) throws a TypeError
 */
export function checkUntilIdle(opts: unknown): asserts opts is UntilIdleOptions {
  if (opts === null || typeof opts !== 'object')
    throw new TypeError(
      `Expected \`untilIdle\` to be an object, got ${opts === null ? 'null' : typeof opts}`,
    );
  const { maxTurns, maxIdleMs, waitFirst, reloadMs } = opts as Record<string, unknown>;
  if (maxTurns !== undefined && !(Number.isInteger(maxTurns) && (maxTurns as number) >= 1))
    throw new TypeError(`Expected \`untilIdle.maxTurns\` to be a positive integer, got ${String(maxTurns)}`);
  if (maxIdleMs !== undefined && (typeof maxIdleMs !== 'number' || !((maxIdleMs as number) >= 0)))
    throw new TypeError(
      `Expected \`untilIdle.maxIdleMs\` to be a non-negative number, got ${String(maxIdleMs)}`,
    );
  if (reloadMs !== undefined && (typeof reloadMs !== 'number' || !((reloadMs as number) > 0)))
    throw new TypeError(`Expected \`untilIdle.reloadMs\` to be a positive number, got ${String(reloadMs)}`);
  if (waitFirst !== undefined && typeof waitFirst !== 'boolean')
    throw new TypeError(`Expected \`untilIdle.waitFirst\` to be a boolean, got ${typeof waitFirst}`);
}
