import type { Json, PersistedTaskMeta, TaskId } from '../wire/types.js';

/**
 * Where a durable task is between its spawn and its end: `waiting` for its next attempt (or its
 * delayed start), `running` an attempt claimed by `owner`, or `done` (its record is terminal).
 */
export type DurableState = 'waiting' | 'running' | 'done';

/**
 * What a store keeps for one durable task besides its record: the input to run it again, the
 * attempts claimed so far and each failed attempt's error, when the next attempt may start, and
 * who runs the current one. snake_case: it is a stored shape.
 *
 * @example
 * const row: DurableRow = {
 *   task_id: 'bg_0', thread_id: 't', task_type: 'render', record, input: { frame: 1 },
 *   state: 'waiting', attempt: 0, max_attempts: 3, next_run_at_ms: Date.now(), attempt_errors: [],
 * };
 */
export interface DurableRow {
  readonly task_id: TaskId;
  readonly thread_id: string;
  readonly task_type: string;
  /** The task's first (`running`) record: what recovery writes when the record itself was lost. */
  readonly record: PersistedTaskMeta;
  readonly input: Json;
  /** Unique per thread among stored rows: a second spawn with it gets this task. */
  readonly idempotency_key?: string;
  readonly state: DurableState;
  /** Attempts claimed so far (0 before the first; counted when claimed, not when they end). */
  readonly attempt: number;
  readonly max_attempts: number;
  /** When the next attempt may be claimed (ms since the epoch, on the supervisor's `now`). */
  readonly next_run_at_ms: number;
  /** The claimant of the current attempt, while `running`. */
  readonly owner?: string;
  /** One error per failed attempt, in order. */
  readonly attempt_errors: readonly string[];
}

/** What `create` did: made the row, or found the thread's row with the same idempotency key. */
export type DurableCreated =
  | { readonly created: true }
  | { readonly created: false; readonly taskId: TaskId };

/** The retry policy's numbers a store needs to schedule the next attempt after a lost one. */
export interface BackoffNumbers {
  readonly initialIntervalMs: number;
  readonly backoffCoefficient: number;
  readonly maximumIntervalMs: number;
  readonly jitter: number;
}

/**
 * The optional capability of a store that keeps durable tasks (`TaskStore.durable`). Every method
 * is atomic; every write that an attempt makes is fenced by (attempt, owner): it lands only while
 * the row is `running` that very attempt for that very owner, so a late body of an earlier
 * attempt writes nothing. Checked by `durableConformance` in `awaken-tasks/testing`.
 *
 * @example
 * const claimed = await store.durable?.claim('bg_0', 0, 'owner-a', Date.now());
 * if (claimed !== undefined) console.log('attempt', claimed.attempt, 'is ours');
 */
export interface DurableTaskStore {
  /**
   * Inserts `row` unless its thread already has a row with its idempotency key; then resolves
   * with that row's task id and writes nothing.
   *
   * @example
   * const r = await durable.create(row);
   * if (!r.created) console.log('already spawned as', r.taskId);
   */
  create(row: DurableRow): Promise<DurableCreated>;
  /**
   * The row of `taskId`, or `undefined`.
   *
   * @example
   * const row = await durable.get('bg_0');
   */
  get(taskId: TaskId): Promise<DurableRow | undefined>;
  /**
   * The one conditional claim: a `waiting` row whose `attempt` is still `afterAttempt` and whose
   * `next_run_at_ms` has come becomes `running` attempt `afterAttempt + 1` for `owner`. Resolves
   * with the claimed row, or `undefined` when the condition did not hold (act only on a row).
   *
   * @example
   * const row = await durable.claim('bg_0', 0, 'owner-a', Date.now()); // attempt 1, or undefined
   */
  claim(taskId: TaskId, afterAttempt: number, owner: string, nowMs: number): Promise<DurableRow | undefined>;
  /**
   * Ends `attempt` of `owner` with `error` (appended to `attempt_errors`): the row goes back to
   * `waiting` until `nextRunAtMs`, or to `done` when `nextRunAtMs` is `undefined` (no more attempts).
   * `false` when the fence refused it (another attempt or owner holds the row).
   *
   * @example
   * await durable.release('bg_0', 1, 'owner-a', 'ECONNRESET', Date.now() + 1_000);
   */
  release(
    taskId: TaskId,
    attempt: number,
    owner: string,
    error: string,
    nextRunAtMs: number | undefined,
  ): Promise<boolean>;
  /**
   * Marks the row `done` (its record is terminal), whatever its state. Idempotent.
   *
   * @example
   * await durable.finish('bg_0');
   */
  finish(taskId: TaskId): Promise<void>;
  /**
   * The rows of `taskType` that are not `done`, in creation order: what recovery re-enqueues.
   *
   * @example
   * for (const row of await durable.pending('render')) console.log(row.task_id, row.state);
   */
  pending(taskType: string): Promise<DurableRow[]>;
  /**
   * The task's recorded steps and checkpoints by name.
   *
   * @example
   * const steps = await durable.steps('bg_0'); // { fetch: { pages: 3 } }
   */
  steps(taskId: TaskId): Promise<Record<string, Json>>;
  /**
   * Records `value` under `name`, fenced by (attempt, owner). With `overwrite` false (a step) the
   * first value recorded stays and is the one returned; with `overwrite` (a checkpoint) the new one
   * replaces it. Resolves with the value stored, or `undefined` when the fence refused the write.
   *
   * @example
   * const kept = await durable.setStep('bg_0', 1, 'owner-a', 'fetch', { pages: 3 }, false);
   */
  setStep(
    taskId: TaskId,
    attempt: number,
    owner: string,
    name: string,
    value: Json,
    overwrite: boolean,
  ): Promise<{ value: Json } | undefined>;
  /**
   * Shared stores only (several processes claim from one database): takes over, in ONE
   * conditional statement, up to `limit` rows of `taskType` that are not `done` and whose claimant
   * is gone (its owner epoch revoked or its lease expired, judged by the database). A row that was
   * `running` records its attempt as lost (`attempt n: ${lostError}`) and waits its backoff
   * (`backoff`, on the database clock), or becomes `done` after its last attempt; every row taken
   * is then this process's to claim. Resolves with the rows taken (act only on them).
   *
   * @example
   * const taken = await durable.adopt?.('render', policy, 'the process stopped', 100);
   */
  adopt?(taskType: string, backoff: BackoffNumbers, lostError: string, limit: number): Promise<DurableRow[]>;
  /**
   * Shared stores only: up to `limit` rows of `taskType` waiting for their next attempt under this
   * process's own owner epoch. The sweep takes up those no attempt loop here holds (a row its
   * takeover moved to this epoch while the attempt still ran here, whose result was then refused),
   * so no row stays waiting for a claimant that will never come.
   *
   * @example
   * const mine = await durable.stranded?.('render', 100);
   */
  stranded?(taskType: string, limit: number): Promise<DurableRow[]>;
  /** With `adopt`: how often (ms) a live process looks for rows whose claimant is gone. */
  readonly sweepMs?: number;
  /**
   * Forgets the row and its steps (a spawn that never happened, or a pruned task).
   *
   * @example
   * await durable.remove('bg_0');
   */
  remove(taskId: TaskId): Promise<void>;
}
