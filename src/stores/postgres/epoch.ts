import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { loadPg } from '../drivers.js';
import type { Pool } from 'pg';
import type { TableNames } from './schema.js';

/** What the owner epoch reports to its store. */
export interface EpochCallbacks {
  /** A `NOTIFY` payload on the table's channel. */
  notify(payload: string): void;
  /** `old` was revoked (or its connection lost); a new epoch is current. */
  revoked(old: string): void;
  /** Every heartbeat, after renewing: the polling fallback for missed notifications. */
  tick(): void;
  /** Deletes the epoch row and orphans its tasks (a lost connection ends an epoch for good). */
  retire(epoch: string): Promise<void>;
}

/**
 * One life of this process as a task owner. Each start takes a fresh epoch (a UUID), so a process
 * restarted with the same `instanceId` never continues its previous life. Alive, as judged by
 * PostgreSQL only: the epoch row exists, its lease (`expires_at`, set by the database clock) has
 * not passed, and — with session features — the session advisory lock `(table class, lock_id)` is
 * held by the dedicated connection, so a killed process is dead the moment its connection closes.
 * The heartbeat renews only an existing, unexpired row: a stalled owner that resumes past its
 * lease, or finds its epoch revoked (the row deleted), ends that life (its running tasks are
 * orphaned) and starts a new epoch instead of quietly coming back.
 */
export class OwnerEpoch {
  #current = '';
  #lockId: number | null = null;
  #client: pg.Client | undefined;
  #clientLost = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #beat: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly names: TableNames,
    private readonly instanceId: string,
    private readonly leaseMs: number,
    private readonly pollMs: number,
    private readonly sessions: boolean,
    private readonly clientConfig: pg.ClientConfig,
    private readonly callbacks: EpochCallbacks,
  ) {}

  /** The current epoch. */
  get current(): string {
    return this.#current;
  }

  /** Takes the first epoch and starts the heartbeat. */
  async start(): Promise<void> {
    await this.#begin();
    this.#timer = setInterval(() => {
      this.#beat = this.#beat.then(() => this.#heartbeat()).catch(() => undefined);
    }, this.pollMs);
    this.#timer.unref();
  }

  /** Stops the heartbeat, deletes the epoch row and closes the dedicated connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#beat;
    try {
      if (this.#current !== '')
        await this.pool.query(`DELETE FROM ${this.names.epochs} WHERE epoch = $1`, [this.#current]);
    } finally {
      await this.#client?.end().catch(() => undefined);
      this.#client = undefined;
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#stopped) return;
    const old = this.#current;
    if (this.#clientLost) {
      // The advisory lock went with the connection: others may already count this epoch dead.
      await this.callbacks.retire(old);
      await this.#begin();
      this.callbacks.revoked(old);
    } else {
      // On the dedicated connection when there is one: renewal never queues behind the pool's work.
      const res = await (this.#client ?? this.pool).query(
        `UPDATE ${this.names.epochs} SET expires_at = now() + make_interval(secs => $2::float8 / 1000)
         WHERE epoch = $1 AND expires_at > now()`,
        [old, this.leaseMs],
      );
      if (res.rowCount === 0) {
        // Revoked, or the lease lapsed (a stall): that life is over; end it for everyone now.
        await this.callbacks.retire(old);
        await this.#begin();
        this.callbacks.revoked(old);
      }
    }
    this.callbacks.tick();
  }

  async #begin(): Promise<void> {
    const epoch = randomUUID();
    const n = this.names;
    let lockId: number | null = null;
    if (this.sessions) {
      const client = await this.#connect();
      if (this.#lockId !== null) {
        await client
          .query('SELECT pg_advisory_unlock($1, $2)', [n.lockClass, this.#lockId])
          .catch(() => undefined);
        this.#lockId = null;
      }
      const next = await client.query<{ id: number }>(
        `SELECT nextval('"${n.tasks.slice(1, -1)}_lock_ids"')::int AS id`,
      );
      lockId = next.rows[0]!.id;
      // Taken before the row exists, so no live-looking row is ever without its lock.
      await client.query('SELECT pg_advisory_lock($1, $2)', [n.lockClass, lockId]);
      this.#lockId = lockId;
    }
    await this.pool.query(
      `INSERT INTO ${n.epochs} (epoch, instance_id, lock_id, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8 / 1000))`,
      [epoch, this.instanceId, lockId, this.leaseMs],
    );
    this.#current = epoch;
  }

  async #connect(): Promise<pg.Client> {
    if (this.#client !== undefined && !this.#clientLost) return this.#client;
    const old = this.#client;
    this.#client = undefined;
    await old?.end().catch(() => undefined);
    const client = new (loadPg().Client)(this.clientConfig);
    const lost = () => {
      if (this.#client === client) this.#clientLost = true;
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (msg) => {
      if (msg.payload !== undefined) this.callbacks.notify(msg.payload);
    });
    await client.connect();
    await client.query(`LISTEN "${this.names.channel.replaceAll('"', '""')}"`);
    this.#client = client;
    this.#clientLost = false;
    this.#lockId = null;
    return client;
  }
}
