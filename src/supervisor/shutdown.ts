import type { Actor } from 'xstate';
import type { supervisorMachine } from '../../machines/supervisor.machine.js';
import type { TaskStore } from '../stores/types.js';
import type { PersistedTaskMeta, TaskEvent } from '../wire/types.js';
import { CancelScopes } from './cancelScopes.js';
import type { TaskEntry } from './entry.js';
import { StoreError } from './errors.js';
import type { FlowOptions } from './flowControl.js';
import { clock, type TimerClock } from './options.js';
import type { Registry } from './registry.js';
import { reportOf, type StopReport } from './stopReport.js';
import { waitFor } from './wait.js';

/**
 * The supervisor's stop: the supervisor machine cancels every task, the drain waits for their
 * terminal writes (bounded by the grace period and `stopTimeoutMs`), and `stop()` reports what
 * the store never took.
 */
export abstract class SupervisorShutdown extends CancelScopes {
  /** The supervisor machine's actor (`running` → `draining` → `stopped`). */
  abstract readonly actor: Actor<typeof supervisorMachine>;
  readonly #stopTimeoutMs: number;
  readonly #graceMs: number;
  #stopping: Promise<void> | undefined;
  /** Records still unwritten when the drain's flush gave up. */
  #unwritten: PersistedTaskMeta[] = [];
  /** With replicas: events and control requests still unstored when the drain's flush gave up. */
  #unstored: { events: TaskEvent[]; control: number } = { events: [], control: 0 };

  constructor(
    registry: Registry,
    store: TaskStore,
    now: () => number,
    grace: number,
    timers: TimerClock,
    flowOptions: FlowOptions,
    stopTimeoutMs: number,
  ) {
    super(registry, store, now, grace, timers, flowOptions);
    this.#stopTimeoutMs = stopTimeoutMs;
    this.#graceMs = grace;
  }

  protected isStopping(): boolean {
    return this.#stopping !== undefined;
  }

  async stopWithReport(): Promise<StopReport> {
    const reached: TaskEntry[] = [];
    for (const entry of this.registry.byId.values())
      if (entry.local && !entry.done && !entry.remote) reached.push(entry);
    await this.stop();
    return reportOf(reached, [], this.forceSettled);
  }

  stop(): Promise<void> {
    if (this.#stopping === undefined) {
      const stopped = new Promise<void>((resolve) => {
        const sub = this.actor.subscribe((snapshot) => {
          if (snapshot.status === 'done') {
            sub.unsubscribe();
            resolve();
          }
        });
      });
      this.#stopping = stopped.then(() => this.#checkWritten(this.#unwritten));
      this.actor.send({ type: 'supervisor.stop' });
      return this.#stopping;
    }
    // After a stop that gave up on unwritten records, another call retries them for another bound.
    const previous = this.#stopping;
    const retry = previous.then(
      () => undefined,
      async () => {
        const records = await this.writer.flush(this.#stopTimeoutMs);
        this.#unstored = (await this.replicas?.flush(this.#stopTimeoutMs)) ?? { events: [], control: 0 };
        this.#checkWritten(records);
      },
    );
    this.#stopping = retry;
    return retry;
  }

  #checkWritten(unwritten: readonly PersistedTaskMeta[]): void {
    const { events, control } = this.#unstored;
    if (unwritten.length === 0 && events.length === 0 && control === 0) return;
    const ids = unwritten.map((m) => m.task_id);
    const cause = ids.map((id) => this.writer.lastError(id)).find((e) => e !== undefined);
    throw new StoreError('store_unwritten', ids, {
      ...(cause === undefined ? {} : { cause }),
      events,
      controlRequests: control,
    });
  }

  /** The supervisor machine's drain: bodies get the grace period, then the store its writes; then it is `stopped`. */
  protected async drainTasks(): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (const entry of this.registry.byId.values())
      if (entry.local && !entry.delivered) pending.push(waitFor(entry, {}));
    // Bodies get the grace period, then their writes `stopTimeoutMs`: a store whose put never
    // settles must not hold stop() forever (what it holds is reported as unwritten).
    let timer: unknown;
    const stalled = new Promise<void>((resolve) => {
      timer = clock.setTimeout(() => resolve(), this.#graceMs + this.#stopTimeoutMs);
    });
    await Promise.race([Promise.all(pending), stalled]);
    clock.clearTimeout(timer);
    this.#unwritten = await this.writer.flush(this.#stopTimeoutMs);
    if (this.replicas !== undefined) this.#unstored = await this.replicas.flush(this.#stopTimeoutMs);
    await this.settleRemovals();
    this.actor.send({ type: 'supervisor.drained' });
  }
}
