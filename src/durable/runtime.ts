import { randomUUID } from 'node:crypto';
import type { DurableRow, DurableTaskStore } from '../stores/durable.js';
import { MemoryDurableStore } from '../stores/memoryDurable.js';
import type { SpawnOptions, TaskContext } from '../supervisor/types.js';
import { TaskResult } from '../wire/taskResult.js';
import type { Json, PersistedTaskMeta, TaskId } from '../wire/types.js';
import { type AttemptRuntime, ended, runAttempts } from './attempts.js';
import type { DurableDef, DurableSupervisorHooks } from './host.js';
import { backoffDelay } from './policy.js';

/** The error recorded for an attempt whose process died before it ended. */
export const LOST_ATTEMPT_ERROR = 'the process running this attempt stopped before it ended';

/** How many rows one takeover statement claims at most. */
const ADOPT_BATCH = 50;

/** The stored records of the threads recovery reads, each thread read once. */
class RecordCache {
  readonly #threads = new Map<string, Map<TaskId, PersistedTaskMeta>>();
  constructor(private readonly hooks: DurableSupervisorHooks) {}

  async get(row: DurableRow): Promise<PersistedTaskMeta | undefined> {
    let records = this.#threads.get(row.thread_id);
    if (records === undefined) {
      records = new Map((await this.hooks.load(row.thread_id)).map((r) => [r.task_id, r]));
      this.#threads.set(row.thread_id, records);
    }
    return records.get(row.task_id);
  }
}

/** What a durable spawn resolves with: the task's id, and whether this call created it. */
export interface DurableSpawned {
  readonly taskId: TaskId;
  /** `false` when the thread already had a task with the idempotency key. */
  readonly created: boolean;
}

/** Spawn options of a durable task, as the runtime takes them. */
export type DurableSpawnOptions = Omit<SpawnOptions, 'taskType'> & {
  readonly idempotencyKey?: string | undefined;
  readonly startAfterMs?: number | undefined;
};

/**
 * One supervisor's durable tasks: the registered types, the spawn path (idempotency key, stored
 * input, delayed start) and recovery. Made on first use, so a supervisor without durable tasks
 * pays nothing.
 */
export class DurableRuntime implements AttemptRuntime {
  readonly hooks: DurableSupervisorHooks;
  readonly store: DurableTaskStore;
  /** This process's claimant id: every attempt it claims is fenced by (attempt, owner). */
  readonly owner = randomUUID();
  readonly random: () => number = Math.random;
  readonly #types = new Map<string, DurableDef>();

  constructor(hooks: DurableSupervisorHooks) {
    this.hooks = hooks;
    this.store = hooks.store ?? new MemoryDurableStore();
  }

  /** The registered definition of `taskType`. */
  def(taskType: string): DurableDef | undefined {
    return this.#types.get(taskType);
  }

  /**
   * Registers `def` and recovers its stored tasks that are not done: an attempt whose process
   * died counts as failed (its error recorded), and the task waits for its next attempt.
   * Resolves with how many tasks it took up.
   */
  async register(def: DurableDef): Promise<number> {
    const known = this.#types.get(def.taskType);
    if (known !== undefined && known !== def) {
      throw new TypeError(`Expected one definition of durable task type '${def.taskType}', got a second one`);
    }
    this.#types.set(def.taskType, def);
    if (this.store.adopt !== undefined) {
      // A shared store: take over only the tasks whose claimant is gone, then keep looking.
      const taken = await this.#adopt(def);
      this.#startSweep();
      return taken;
    }
    const rows = await this.store.pending(def.taskType);
    const records = new RecordCache(this.hooks);
    let taken = 0;
    for (const row of rows) {
      const found = await this.#unfinished(row, records);
      if (found !== undefined && (await this.#recover(def, row, found.record))) taken++;
    }
    return taken;
  }

  /**
   * Takes over `def`'s tasks whose claimant is gone (the store's one conditional statement, which
   * already recorded a lost attempt) and runs each from the rows it returned, in batches.
   */
  async #adopt(def: DurableDef): Promise<number> {
    const adopt = this.store.adopt!.bind(this.store);
    const records = new RecordCache(this.hooks);
    let taken = 0;
    for (;;) {
      if (this.hooks.stopping?.() === true) return taken;
      const rows = await adopt(def.taskType, def.policy, LOST_ATTEMPT_ERROR, ADOPT_BATCH);
      for (const row of rows) {
        const found = await this.#unfinished(row, records);
        if (found === undefined) continue;
        const finalError = row.state === 'done' ? row.attempt_errors.at(-1) : undefined;
        if (this.#resume(def, row, found.record, finalError)) taken++;
      }
      // Until a batch comes back empty: the store leaves unreadable rows out of a batch, so a short
      // one is not the last. Every row taken is this process's now, so none comes back twice.
      if (rows.length === 0) break;
    }
    return taken + (await this.#strandedHere(def, records));
  }

  /**
   * Rows of `def` waiting under this process's own epoch that no attempt loop here holds: taken
   * up like adopted ones. Only with a stored `running` record: a spawn still on its way here has
   * none yet, and a task whose end was written is finished instead (`#unfinished`); `resume`
   * refuses a task that still runs or ended here.
   */
  async #strandedHere(def: DurableDef, records: RecordCache): Promise<number> {
    const stranded = this.store.stranded;
    if (stranded === undefined || this.hooks.stopping?.() === true) return 0;
    let taken = 0;
    for (const row of await stranded.call(this.store, def.taskType, ADOPT_BATCH)) {
      if (this.hooks.isLive(row.task_id)) continue;
      const found = await this.#unfinished(row, records);
      if (found?.record === undefined) continue;
      if (this.#resume(def, row, found.record, undefined)) taken++;
    }
    return taken;
  }

  /**
   * The stored record of `row`'s task when the task is to be taken up here (`record` undefined: not
   * written yet); `undefined` when it is live in this process, or already ended: its end was
   * written before the row heard of it, so the record decides and the row is marked done.
   */
  async #unfinished(
    row: DurableRow,
    records: RecordCache,
  ): Promise<{ record: PersistedTaskMeta | undefined } | undefined> {
    if (this.hooks.isLive(row.task_id)) return undefined;
    const record = await records.get(row);
    if (record === undefined || record.status === 'running') return { record };
    await this.store.finish(row.task_id);
    return undefined;
  }

  #sweep: ReturnType<typeof setInterval> | undefined;

  /** Looks for tasks whose claimant died, every `sweepMs`, while the supervisor runs. */
  #startSweep(): void {
    if (this.#sweep !== undefined) return;
    let busy = false;
    this.#sweep = setInterval(() => {
      if (this.hooks.stopping?.() === true) {
        clearInterval(this.#sweep);
        return;
      }
      if (busy) return;
      busy = true;
      void (async () => {
        for (const def of this.#types.values()) await this.#adopt(def);
      })()
        .catch(() => undefined)
        .finally(() => {
          busy = false;
        });
    }, this.store.sweepMs ?? 1_000);
    this.#sweep.unref?.();
  }

  async #recover(
    def: DurableDef,
    stored: DurableRow,
    record: PersistedTaskMeta | undefined,
  ): Promise<boolean> {
    let row = stored;
    let finalError: string | undefined;
    if (row.state === 'running') {
      // The attempt was claimed by a process that is gone: that attempt failed.
      const error = `attempt ${row.attempt}: ${LOST_ATTEMPT_ERROR}`;
      const final = row.attempt >= row.max_attempts;
      const next = final ? undefined : this.hooks.now() + backoffDelay(def.policy, row.attempt, this.random);
      if (!(await this.store.release(row.task_id, row.attempt, row.owner ?? '', error, next))) return false;
      row = {
        ...row,
        state: final ? 'done' : 'waiting',
        next_run_at_ms: next ?? row.next_run_at_ms,
        attempt_errors: [...row.attempt_errors, error],
      };
      if (final) finalError = error;
    }
    return this.#resume(def, row, record, finalError);
  }

  /** Runs the task of `row` here: its next attempt, or its end when its last attempt was lost. */
  #resume(
    def: DurableDef,
    row: DurableRow,
    record: PersistedTaskMeta | undefined,
    finalError: string | undefined,
  ): boolean {
    const base = record ?? row.record;
    const meta: PersistedTaskMeta = {
      ...base,
      status: 'running',
      attempt: row.attempt,
      max_attempts: row.max_attempts,
    };
    if (row.attempt_errors.length > 0) {
      meta.attempt_errors = [...row.attempt_errors];
      meta.last_error = row.attempt_errors.at(-1)!;
    }
    delete meta.phase;
    delete meta.next_attempt_at_ms;
    const body =
      finalError !== undefined
        ? () => ended(this, row.task_id, TaskResult.failed(finalError))
        : (ctx: TaskContext) => runAttempts(this, ctx, def, row);
    // A task that waits for its next run time takes no concurrency slot until then.
    return this.hooks.resume(meta, body, finalError === undefined && row.next_run_at_ms > this.hooks.now());
  }

  /** Spawns a durable task of `def` with its (checked) input; a key hit starts nothing. */
  async spawn(def: DurableDef, opts: DurableSpawnOptions, input: Json): Promise<DurableSpawned> {
    if (!this.#types.has(def.taskType)) this.#types.set(def.taskType, def);
    // A shared store: this process's own attempt fenced by a replaced epoch is taken over too.
    if (this.store.adopt !== undefined) this.#startSweep();
    const { idempotencyKey: key, startAfterMs, ...plain } = opts;
    if (key !== undefined && typeof key !== 'string') {
      throw new TypeError(
        `Expected \`idempotencyKey\` to be a string, got ${key === null ? 'null' : typeof key}`,
      );
    }
    if (startAfterMs !== undefined && !(typeof startAfterMs === 'number' && startAfterMs >= 0)) {
      throw new TypeError(
        `Expected \`startAfterMs\` to be a non-negative number, got ${String(startAfterMs)}`,
      );
    }
    let row: DurableRow | undefined;
    let existing: TaskId | undefined;
    const maxAttempts = def.policy.maximumAttempts;
    const taskId = await this.hooks.spawn(
      { ...plain, taskType: def.taskType },
      (ctx) => runAttempts(this, ctx, def, row!),
      {
        extra: {
          attempt: 0,
          max_attempts: maxAttempts,
          ...(key === undefined ? {} : { idempotency_key: key }),
        },
        abandon: (id) => this.store.remove(id),
        startsLater: (startAfterMs ?? 0) > 0,
        prepare: async (id, meta) => {
          const created = {
            task_id: id,
            thread_id: meta.owner_thread_id,
            task_type: def.taskType,
            record: meta,
            input,
            ...(key === undefined ? {} : { idempotency_key: key }),
            state: 'waiting',
            attempt: 0,
            max_attempts: maxAttempts,
            next_run_at_ms: meta.created_at_ms + (startAfterMs ?? 0),
            attempt_errors: [],
          } satisfies DurableRow;
          const r = await this.store.create(created);
          if (!r.created) {
            existing = r.taskId;
            return r.taskId;
          }
          row = created;
          return undefined;
        },
      },
    );
    return { taskId, created: existing === undefined };
  }
}
