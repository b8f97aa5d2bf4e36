import type { InboxSender } from '../inbox/types.js';
import type { DurableTaskStore } from '../stores/durable.js';
import type { RequestInputOptions } from '../supervisor/input.js';
import type { Usage } from '../supervisor/budget.js';
import type { TaskContext } from '../supervisor/types.js';
import { toJson } from '../wire/jsonSafe.js';
import type { Json, TaskId } from '../wire/types.js';
import { AttemptFencedError } from './errors.js';
import type { AttemptTaskContext } from './host.js';

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
 * checkpoint) checks the scope and is fenced in the store by (attempt, owner).
 */
export class AttemptContext implements AttemptTaskContext {
  readonly #outer: TaskContext;
  readonly #scope: AttemptScope;
  readonly #store: DurableTaskStore;
  readonly #owner: string;
  /** The task's recorded steps and checkpoints (shared by its attempts in this process). */
  readonly #recorded: Record<string, Json>;
  readonly attempt: number;
  readonly previousError: string | undefined;

  constructor(
    outer: TaskContext,
    scope: AttemptScope,
    store: DurableTaskStore,
    owner: string,
    recorded: Record<string, Json>,
    attempt: number,
    previousError: string | undefined,
  ) {
    this.#outer = outer;
    this.#scope = scope;
    this.#store = store;
    this.#owner = owner;
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
    return this.#record(key, value, false);
  }

  async checkpointGet(key: string): Promise<Json | undefined> {
    checkName(key, 'key');
    const k = CHECKPOINT + key;
    return Object.hasOwn(this.#recorded, k) ? this.#recorded[k] : undefined;
  }

  async checkpointSet(key: string, value: unknown): Promise<void> {
    checkName(key, 'key');
    await this.#record(CHECKPOINT + key, toJson(value, 'value'), true);
  }

  async #record(key: string, value: Json, overwrite: boolean): Promise<Json> {
    this.#assertLive();
    const kept = await this.#store.setStep(this.taskId, this.attempt, this.#owner, key, value, overwrite);
    if (kept === undefined || !this.#scope.live) {
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
