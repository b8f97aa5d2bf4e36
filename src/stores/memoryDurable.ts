import type { Json, TaskId } from '../wire/types.js';
import type { DurableCreated, DurableRow, DurableTaskStore } from './durable.js';

/**
 * Durable task rows in this process's memory: retries and backoff work, nothing survives a restart
 * ("retryable, not resumable"). The default for stores without their own `durable`.
 *
 * @example
 * const durable = new MemoryDurableStore();
 * await durable.create(row);
 */
export class MemoryDurableStore implements DurableTaskStore {
  readonly #rows = new Map<TaskId, DurableRow>();
  readonly #keys = new Map<string, TaskId>();
  readonly #steps = new Map<TaskId, Map<string, Json>>();

  async create(row: DurableRow): Promise<DurableCreated> {
    const key = row.idempotency_key === undefined ? undefined : keyOf(row.thread_id, row.idempotency_key);
    if (key !== undefined) {
      const taken = this.#keys.get(key);
      if (taken !== undefined) return { created: false, taskId: taken };
      this.#keys.set(key, row.task_id);
    }
    this.#rows.set(row.task_id, structuredClone(row));
    return { created: true };
  }

  async get(taskId: TaskId): Promise<DurableRow | undefined> {
    const row = this.#rows.get(taskId);
    return row === undefined ? undefined : structuredClone(row);
  }

  async claim(
    taskId: TaskId,
    afterAttempt: number,
    owner: string,
    nowMs: number,
  ): Promise<DurableRow | undefined> {
    const row = this.#rows.get(taskId);
    if (row === undefined || row.state !== 'waiting' || row.attempt !== afterAttempt) return undefined;
    if (row.next_run_at_ms > nowMs) return undefined;
    const next: DurableRow = { ...row, state: 'running', attempt: afterAttempt + 1, owner };
    this.#rows.set(taskId, next);
    return structuredClone(next);
  }

  async release(
    taskId: TaskId,
    attempt: number,
    owner: string,
    error: string,
    nextRunAtMs: number | undefined,
  ): Promise<boolean> {
    const row = this.#rows.get(taskId);
    if (!fenceHolds(row, attempt, owner)) return false;
    const next: DurableRow = {
      ...row,
      state: nextRunAtMs === undefined ? 'done' : 'waiting',
      next_run_at_ms: nextRunAtMs ?? row.next_run_at_ms,
      attempt_errors: [...row.attempt_errors, error],
    };
    delete (next as { owner?: string }).owner;
    this.#rows.set(taskId, next);
    return true;
  }

  async finish(taskId: TaskId): Promise<void> {
    const row = this.#rows.get(taskId);
    if (row !== undefined && row.state !== 'done') this.#rows.set(taskId, { ...row, state: 'done' });
  }

  async pending(taskType: string): Promise<DurableRow[]> {
    const out: DurableRow[] = [];
    for (const row of this.#rows.values())
      if (row.task_type === taskType && row.state !== 'done') out.push(structuredClone(row));
    return out;
  }

  async steps(taskId: TaskId): Promise<Record<string, Json>> {
    return Object.fromEntries(structuredClone(Array.from(this.#steps.get(taskId) ?? [])));
  }

  async setStep(
    taskId: TaskId,
    attempt: number,
    owner: string,
    name: string,
    value: Json,
    overwrite: boolean,
  ): Promise<{ value: Json } | undefined> {
    if (!fenceHolds(this.#rows.get(taskId), attempt, owner)) return undefined;
    let steps = this.#steps.get(taskId);
    if (steps === undefined) this.#steps.set(taskId, (steps = new Map()));
    if (!overwrite && steps.has(name)) return { value: structuredClone(steps.get(name)!) };
    steps.set(name, structuredClone(value));
    return { value };
  }

  async remove(taskId: TaskId): Promise<void> {
    const row = this.#rows.get(taskId);
    if (row?.idempotency_key !== undefined) this.#keys.delete(keyOf(row.thread_id, row.idempotency_key));
    this.#rows.delete(taskId);
    this.#steps.delete(taskId);
  }
}

function keyOf(threadId: string, key: string): string {
  return `${threadId.length}:${threadId}:${key}`;
}

function fenceHolds(row: DurableRow | undefined, attempt: number, owner: string): row is DurableRow {
  return row !== undefined && row.state === 'running' && row.attempt === attempt && row.owner === owner;
}
