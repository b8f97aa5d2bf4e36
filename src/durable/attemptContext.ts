import type { InboxSender } from '../inbox/types.js';
import { CANCEL_REASON } from '../supervisor/context.js';
import type { RequestInputOptions } from '../supervisor/input.js';
import type { Usage } from '../supervisor/budget.js';
import type { TaskContext } from '../supervisor/types.js';
import { toJson } from '../wire/jsonSafe.js';
import type { Json, TaskId } from '../wire/types.js';
import { AttemptFencedError } from './errors.js';
import type { AttemptRuntime } from './attempts.js';
import type { AttemptTaskContext } from './host.js';
import { CANCELLED, recordStep } from './storeCalls.js';

/** One attempt's hold on its task: live until it ends, times out, or a write is refused. */
export class AttemptScope {
  live = true;
  readonly controller = new AbortController();

  /** Ends the hold (a late body writes nothing) and aborts the attempt's signal with `reason`. */
  fence(reason: unknown): void {
    this.live = false;
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }
}

const STEP = 'step:';
const CHECKPOINT = 'checkpoint:';

/**
 * The context of one attempt: the task's context seen through the attempt's scope. Its signal
 * aborts on cancel, on the attempt's timeout and on a refused write; every write (event, step,
 * checkpoint) checks the scope and is fenced in the store by (attempt, owner). A step or checkpoint
 * write the store rejects is tried again on the store-call schedule (`recordStep`).
 */
export class AttemptContext implements AttemptTaskContext {
  readonly #rt: AttemptRuntime;
  readonly #outer: TaskContext;
  readonly #scope: AttemptScope;
  /** The task's recorded steps and checkpoints (shared by its attempts in this process). */
  readonly #recorded: Record<string, Json>;
  readonly attempt: number;
  readonly previousError: string | undefined;

  constructor(
    rt: AttemptRuntime,
    outer: TaskContext,
    scope: AttemptScope,
    recorded: Record<string, Json>,
    attempt: number,
    previousError: string | undefined,
  ) {
    this.#rt = rt;
    this.#outer = outer;
    this.#scope = scope;
    this.#recorded = recorded;
    this.attempt = attempt;
    this.previousError = previousError;
  }

  get taskId(): TaskId {
    return this.#outer.taskId;
  }

  get signal(): AbortSignal {
    return this.#scope.controller.signal;
  }

  get inbox(): InboxSender | undefined {
    return this.#outer.inbox;
  }

  cancelled(): Promise<void> {
    return this.#outer.cancelled();
  }

  isCancelled(): boolean {
    return this.#outer.isCancelled();
  }

  requestInput(request: Json, options?: RequestInputOptions): Promise<Json> {
    this.#assertLive();
    return this.#outer.requestInput(request, options);
  }

  reportUsage(usage: Usage): void {
    this.#assertLive();
    this.#outer.reportUsage(usage);
  }

  emit(eventType: string, payload?: Json): boolean {
    this.#assertLive();
    return this.#outer.emit(eventType, payload);
  }

  async step(name: string, fn: () => unknown): Promise<Json> {
    checkName(name, 'name');
    const key = STEP + name;
    if (Object.hasOwn(this.#recorded, key)) return this.#recorded[key]!;
    this.#assertLive();
    const value = toJson(await fn(), 'step result');
    return this.#record(key, value, false, `step '${name}'`);
  }

  async checkpointGet(key: string): Promise<Json | undefined> {
    checkName(key, 'key');
    const k = CHECKPOINT + key;
    return Object.hasOwn(this.#recorded, k) ? this.#recorded[k] : undefined;
  }

  async checkpointSet(key: string, value: unknown): Promise<void> {
    checkName(key, 'key');
    await this.#record(CHECKPOINT + key, toJson(value, 'value'), true, `checkpoint '${key}'`);
  }

  /**
   * Writes `key` fenced by (attempt, owner), tried again while the store rejects (the write is
   * idempotent). Throws the cancel's reason when the task is cancelled (or stopped) between tries
   * or during one, an `AttemptFencedError` when the attempt lost the task (refused, timed out), and
   * the store call's error once the last try failed.
   */
  async #record(key: string, value: Json, overwrite: boolean, what: string): Promise<Json> {
    this.#assertLive();
    const { hooks, store, owner } = this.#rt;
    const scope = this.#scope;
    const kept = await recordStep(hooks, this.#outer, scope.controller.signal, what, async () =>
      // The attempt lost the task between tries: no write, refused like a fenced one.
      scope.live ? store.setStep(this.taskId, this.attempt, owner, key, value, overwrite) : undefined,
    );
    if (kept === CANCELLED && scope.live) {
      // The task was cancelled (or stopped), or its own deadline passed, between tries or during
      // one: the body sees why (the attempt still holds the task, so this is no fenced write).
      const outer = this.#outer.signal;
      throw outer.aborted ? outer.reason : CANCEL_REASON;
    }
    if (kept === CANCELLED || kept === undefined || !scope.live) {
      const e = this.#fencedError();
      this.#scope.fence(e);
      throw e;
    }
    this.#recorded[key] = kept.value;
    return kept.value;
  }

  #assertLive(): void {
    if (!this.#scope.live) throw this.#fencedError();
  }

  #fencedError(): AttemptFencedError {
    return new AttemptFencedError(
      `task '${this.taskId}' attempt ${this.attempt} no longer holds the task: its write was refused`,
    );
  }
}

function checkName(name: unknown, what: string): void {
  if (typeof name !== 'string')
    throw new TypeError(`Expected \`${what}\` to be a string, got ${typeof name}`);
}
