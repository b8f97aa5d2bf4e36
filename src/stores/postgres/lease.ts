import type { Pool } from 'pg';
import type { TableNames } from './schema.js';

/**
 * This store instance's claim to be alive: a row `(instance_id, expires_at)` that a heartbeat
 * pushes `leaseMs` into the future every `leaseMs / 3`. Expiry is judged by the database's clock
 * (`now()`), never a process's, so clock skew between machines does not matter. The timer is
 * `unref()`ed: a lease never keeps a process alive.
 */
export class Lease {
  readonly #pool: Pool;
  readonly #names: TableNames;
  readonly #instanceId: string;
  readonly #leaseMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #beat: Promise<void> = Promise.resolve();

  constructor(pool: Pool, names: TableNames, instanceId: string, leaseMs: number) {
    this.#pool = pool;
    this.#names = names;
    this.#instanceId = instanceId;
    this.#leaseMs = leaseMs;
  }

  /** Writes the lease (so records stamped after this are live) and starts the heartbeat. */
  async start(): Promise<void> {
    await this.#renew();
    this.#timer = setInterval(
      () => {
        // A failed beat is retried by the next one; two missed in a row let the lease lapse,
        // which is what a process cut off from the database should look like to the others.
        this.#beat = this.#renew().catch(() => undefined);
      },
      Math.max(1, Math.floor(this.#leaseMs / 3)),
    );
    this.#timer.unref();
  }

  /** Stops the heartbeat and deletes the lease, so others may orphan what this instance left running. */
  async release(): Promise<void> {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#beat;
    await this.#pool.query(`DELETE FROM ${this.#names.leases} WHERE instance_id = $1`, [this.#instanceId]);
  }

  async #renew(): Promise<void> {
    await this.#pool.query(
      `INSERT INTO ${this.#names.leases} (instance_id, expires_at)
       VALUES ($1, now() + make_interval(secs => $2::float8 / 1000))
       ON CONFLICT (instance_id) DO UPDATE SET expires_at = excluded.expires_at`,
      [this.#instanceId, this.#leaseMs],
    );
  }
}
