import type { TaskId } from '../../wire/types.js';
import type { SharedSlots } from '../coordination.js';
import { checkout, rollback } from './checkout.js';
import type { FenceState } from './fencedPut.js';
import { reapDead } from './orphan.js';
import { backoff } from './retry.js';

/** How often, at most, a full slot key looks for dead epochs to revoke. */
const REVOKE_EVERY_MS = 500;
const RELEASE_ATTEMPTS = 8;

/**
 * Concurrency slots shared by the replicas of one table, in `<table>_slots` (created on first use):
 * one row per held slot, keyed by task, under the owner epoch that took it. A slot is taken in a
 * transaction holding a transaction-scoped advisory lock on its key, so two replicas never both
 * see the last free slot: the count and the insert are serialised by PostgreSQL alone (no clocks).
 * Only slots of live epochs count: rows of an epoch that no longer exists are deleted under the same
 * lock, and a replica that finds a key full revokes dead epochs first (the rule the store uses to
 * orphan tasks), so a killed replica's slots free once it is judged dead. A release notifies the
 * table's channel; waiters also retry on their own schedule, so a lost notification only delays.
 */
export class PgSlots implements SharedSlots {
  readonly #s: FenceState;
  readonly #ready: () => Promise<void>;
  readonly #lockGraceMs: number;
  readonly #table: string;
  #created: Promise<void> | undefined;
  #lastRevoke = 0;
  #wakers = new Set<() => void>();
  #closed = false;

  constructor(state: FenceState, ready: () => Promise<void>, lockGraceMs: number) {
    this.#s = state;
    this.#ready = ready;
    this.#lockGraceMs = lockGraceMs;
    this.#table = `${state.names.tasks.slice(0, -1)}_slots"`;
  }

  #create(): Promise<void> {
    this.#created ??= (async () => {
      await this.#ready();
      const client = await checkout(this.#s.pool);
      try {
        await client.query('BEGIN');
        // Two replicas creating the table at once would collide in the catalog: one at a time.
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `${this.#s.names.lockKey}:slots`,
        ]);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.#table} (
             task_id text PRIMARY KEY, key text NOT NULL, epoch text NOT NULL)`,
        );
        await client.query('COMMIT');
      } catch (e) {
        await rollback(client);
        throw e;
      } finally {
        client.release();
      }
    })().catch((e: unknown) => {
      this.#created = undefined;
      throw e;
    });
    return this.#created;
  }

  async tryAcquire(key: string, limit: number, taskId: TaskId): Promise<boolean> {
    await this.#create();
    const taken = await this.#take(key, limit, taskId);
    if (taken || Date.now() - this.#lastRevoke < REVOKE_EVERY_MS) return taken;
    // Full: a dead replica may hold slots. Revoke the epochs PostgreSQL judges dead (their tasks
    // orphaned, as a load would), then try once more.
    this.#lastRevoke = Date.now();
    const revoked = await reapDead(this.#s.pool, this.#s.names, this.#lockGraceMs);
    if (revoked.length === 0) return false;
    return this.#take(key, limit, taskId);
  }

  async #take(key: string, limit: number, taskId: TaskId): Promise<boolean> {
    const client = await checkout(this.#s.pool);
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `${this.#s.names.lockKey}:slot:${key}`,
      ]);
      await client.query(
        `DELETE FROM ${this.#table} s WHERE s.key = $1
           AND NOT EXISTS (SELECT 1 FROM ${this.#s.names.epochs} e WHERE e.epoch = s.epoch)`,
        [key],
      );
      const res = await client.query<{ held: boolean }>(
        `WITH ins AS (
           INSERT INTO ${this.#table} (task_id, key, epoch)
           SELECT $2, $1, $4 WHERE (SELECT count(*) FROM ${this.#table} WHERE key = $1) < $3
           ON CONFLICT (task_id) DO NOTHING RETURNING 1
         )
         SELECT EXISTS (SELECT 1 FROM ins)
           OR EXISTS (SELECT 1 FROM ${this.#table} WHERE task_id = $2 AND epoch = $4) AS held`,
        [key, taskId, limit, this.#s.epoch()],
      );
      await client.query('COMMIT');
      return res.rows[0]?.held === true;
    } catch (e) {
      await rollback(client);
      throw e;
    } finally {
      client.release();
    }
  }

  async release(taskId: TaskId): Promise<void> {
    await this.#create();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#s.pool.query(
          `WITH del AS (DELETE FROM ${this.#table} WHERE task_id = $1 RETURNING 1)
           SELECT pg_notify($2, '{"k":"s"}') FROM del`,
          [taskId, this.#s.names.channel],
        );
        this.wake();
        return;
      } catch (e) {
        // Given up: the row stops counting once this epoch ends.
        if (this.#closed || attempt + 1 >= RELEASE_ATTEMPTS) throw e;
        await backoff(attempt);
      }
    }
  }

  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }

  /** A slot may have freed (a notification, or a release here): waiters try again. */
  wake(): void {
    const wakers = [...this.#wakers];
    for (const w of wakers) w();
  }

  /** The store closes: pending waits end, failed releases are not retried. */
  close(): void {
    this.#closed = true;
    this.wake();
  }
}
