import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Pool } from 'pg';
import type { ReplicaEvent } from '../coordination.js';
import { destroyClient, listenSql, openDedicated, timedQuery } from './dedicated.js';
import { lockHeldSql } from './orphan.js';
import type { TableNames } from './schema.js';

/** What the owner epoch reports to its store. */
export interface EpochCallbacks {
  /** A `NOTIFY` payload on the table's channel. */
  notify(payload: string): void;
  /** `old` was revoked (or its lease lapsed); a new epoch is current. */
  revoked(old: string): void;
  /** The polling fallback (its own schedule) and the catch-up read after a gap. */
  tick(): void;
  /** Deletes the epoch row and orphans its tasks (a lapsed epoch ends for good). */
  retire(epoch: string): Promise<void>;
  /** The link to the database changed. */
  connection(event: ReplicaEvent): void;
}

/** The timing of an owner epoch, in milliseconds. */
export interface EpochTiming {
  readonly leaseMs: number;
  readonly pollMs: number;
  /** The bound on every query of the dedicated connection (the heartbeat's included). */
  readonly queryTimeoutMs: number;
  /** How long another replica waits for an owner whose lock is gone to reconnect. */
  readonly lockGraceMs: number;
}

const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 1_000;
/** While notifications cannot arrive, control requests and events are polled at least this often. */
const FALLBACK_POLL_MS = 250;

/**
 * One life of this process as a task owner. Each start takes a fresh epoch (a UUID), so a process
 * restarted with the same `instanceId` never continues its previous life. Alive, as judged by
 * PostgreSQL only: the epoch row exists and its lease (`expires_at`, database clock) has not passed;
 * with session features, the session advisory lock held by the dedicated connection gives a fast
 * verdict on a process that is gone (lock missing for longer than the grace). Losing the dedicated
 * connection is not losing the epoch: it reconnects with backoff and, while the lease is valid,
 * takes the epoch's lock again and keeps running. The heartbeat renews only an existing, unexpired
 * row: an owner that comes back past its lease, or finds its epoch revoked, ends that life (its
 * running tasks are orphaned) and starts a new epoch instead of quietly coming back.
 */
export class OwnerEpoch {
  #current = '';
  #lockId: number | null = null;
  #client: pg.Client | undefined;
  /** The dedicated connection is lost and being re-established (notifications cannot arrive). */
  #down = false;
  #downSince = 0;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #beat: Promise<void> = Promise.resolve();
  #stopped = false;
  /** The database clock minus this process's, estimated at each heartbeat. */
  clockOffsetMs = 0;

  constructor(
    private readonly pool: Pool,
    private readonly names: TableNames,
    private readonly instanceId: string,
    private readonly timing: EpochTiming,
    private readonly sessions: boolean,
    private readonly clientConfig: pg.ClientConfig,
    private readonly callbacks: EpochCallbacks,
  ) {}

  /** The current epoch. */
  get current(): string {
    return this.#current;
  }

  /** Takes the first epoch, starts the heartbeat and the polling fallback. */
  async start(): Promise<void> {
    const t0 = Date.now();
    const clock = await this.pool.query<{ now_ms: string }>(
      `SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::text AS now_ms`,
    );
    this.clockOffsetMs = Number(clock.rows[0]!.now_ms) - (t0 + Date.now()) / 2;
    if (this.sessions) this.#client = await this.#open();
    await this.#begin();
    this.#heartbeatTimer = setInterval(() => {
      this.#beat = this.#beat.then(() => this.#heartbeat()).catch(() => undefined);
    }, this.timing.pollMs);
    this.#heartbeatTimer.unref();
    this.#schedulePoll();
  }

  /** Stops the heartbeat, deletes the epoch row and closes the dedicated connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    await this.#beat;
    try {
      if (this.#current !== '')
        await this.pool.query(`DELETE FROM ${this.names.epochs} WHERE epoch = $1`, [this.#current]);
    } finally {
      const client = this.#client;
      this.#client = undefined;
      if (client !== undefined) destroyClient(client);
    }
  }

  /** The polling fallback, on its own schedule: never behind a hung heartbeat; faster while notifications cannot arrive. */
  #schedulePoll(): void {
    if (this.#stopped) return;
    const every = this.#down ? Math.min(this.timing.pollMs, FALLBACK_POLL_MS) : this.timing.pollMs;
    this.#pollTimer = setTimeout(() => {
      this.callbacks.tick();
      this.#schedulePoll();
    }, every);
    this.#pollTimer.unref();
  }

  #q<R extends pg.QueryResultRow>(client: pg.Client, text: string, values?: unknown[]) {
    return timedQuery<R>(client, this.timing.queryTimeoutMs, text, values);
  }

  async #heartbeat(): Promise<void> {
    if (this.#stopped || this.#down) return;
    const old = this.#current;
    const client = this.#client;
    const n = this.names;
    const lease = `make_interval(secs => ${this.timing.leaseMs}::float8 / 1000)`;
    if (client === undefined) {
      // No session features (transaction pooling): the lease alone.
      const res = await this.pool.query(
        `UPDATE ${n.epochs} SET expires_at = now() + ${lease} WHERE epoch = $1 AND expires_at > now()`,
        [old],
      );
      if (res.rowCount === 0) await this.#replace(old);
      return;
    }
    const t0 = Date.now();
    let res: pg.QueryResult<{ renewed: number; listening: boolean; now_ms: string }>;
    try {
      // Renews this epoch, marks others whose lock is gone (the grace for their owners to
      // reconnect starts), and checks that this session still listens.
      res = await this.#q(
        client,
        `WITH me AS (
           UPDATE ${n.epochs} SET expires_at = now() + ${lease}, lock_lost_at = NULL
           WHERE epoch = $1 AND expires_at > now() RETURNING 1
         ), mark AS (
           UPDATE ${n.epochs} e SET lock_lost_at = now()
           WHERE e.epoch <> $1 AND e.lock_id IS NOT NULL AND e.lock_lost_at IS NULL AND NOT ${lockHeldSql(n)}
         )
         SELECT (SELECT count(*) FROM me)::int AS renewed,
           $2::text = ANY(ARRAY(SELECT pg_listening_channels())) AS listening,
           floor(extract(epoch FROM clock_timestamp()) * 1000)::text AS now_ms`,
        [old, n.channel],
      );
    } catch (e) {
      // A heartbeat that does not answer is a lost connection (a half-open socket never will).
      this.#lost(client, e);
      return;
    }
    const row = res.rows[0]!;
    this.clockOffsetMs = Number(row.now_ms) - (t0 + Date.now()) / 2;
    if (row.renewed === 0) {
      await this.#replace(old);
      return;
    }
    if (!row.listening) {
      // The session no longer listens: notifications are lost until it does again.
      this.callbacks.connection({ type: 'polling_started', epoch: old, error: 'the listener is gone' });
      try {
        await this.#q(client, listenSql(n.channel));
      } catch (e) {
        this.#lost(client, e);
        return;
      }
      this.callbacks.connection({ type: 'polling_ended', epoch: old });
      this.callbacks.tick();
    }
  }

  /** Revoked, or the lease lapsed (a stall): that life is over; end it for everyone now. */
  async #replace(old: string): Promise<void> {
    await this.callbacks.retire(old);
    await this.#begin();
    this.callbacks.revoked(old);
    this.callbacks.tick();
  }

  /** The dedicated connection failed, closed or stopped answering: drop it and reconnect. */
  #lost(client: pg.Client, error: unknown): void {
    if (client !== this.#client || this.#down || this.#stopped) return;
    this.#down = true;
    this.#downSince = Date.now();
    this.#client = undefined;
    destroyClient(client);
    const epoch = this.#current;
    const why = error instanceof Error ? error.message : String(error);
    this.callbacks.connection({ type: 'connection_lost', epoch, error: why });
    this.callbacks.connection({ type: 'polling_started', epoch, error: why });
    // Poll faster while notifications cannot arrive.
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    this.#schedulePoll();
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    let delay = BACKOFF_MIN_MS;
    while (!this.#stopped) {
      try {
        await this.#resume();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay + Math.floor((Math.random() * delay) / 2)).unref());
        delay = Math.min(delay * 2, BACKOFF_MAX_MS);
      }
    }
  }

  /**
   * A new dedicated connection: the epoch's lock taken again (a fresh lock id when the old session
   * still holds it, as a half-open one does), then the lease renewed if it is still valid — the
   * epoch and all its tasks go on. Past the lease, the epoch ends and a new one begins.
   */
  async #resume(): Promise<void> {
    const client = await this.#open();
    const n = this.names;
    const old = this.#current;
    try {
      let lockId = this.#lockId;
      const same =
        lockId !== null &&
        (
          await this.#q<{ ok: boolean }>(client, 'SELECT pg_try_advisory_lock($1, $2) AS ok', [
            n.lockClass,
            lockId,
          ])
        ).rows[0]!.ok;
      if (!same) {
        // The old session still holds it (a half-open socket the server has not noticed): end that
        // session — the one holding exactly this lock, so never anyone else's — and take a fresh id.
        if (lockId !== null) {
          await this.#q(
            client,
            `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
               AND objsubid = 2 AND classid = $1::bigint::oid AND objid = $2::bigint::oid
               AND pid <> pg_backend_pid()`,
            [n.lockClass, lockId],
          ).catch(() => undefined);
        }
        lockId = await this.#newLock(client);
      }
      const kept = await this.#q(
        client,
        `UPDATE ${n.epochs} SET lock_id = $2, lock_lost_at = NULL,
           expires_at = now() + make_interval(secs => $3::float8 / 1000)
         WHERE epoch = $1 AND expires_at > now()`,
        [old, lockId, this.timing.leaseMs],
      );
      if (this.#stopped) throw new Error('stopped');
      this.#lockId = lockId;
      this.#client = client;
      if (kept.rowCount === 0) {
        await this.callbacks.retire(old);
        await this.#insert(lockId);
      }
    } catch (e) {
      if (this.#client === client) this.#client = undefined;
      destroyClient(client);
      throw e;
    }
    this.#down = false;
    const epochKept = this.#current === old;
    this.callbacks.connection({
      type: 'reconnected',
      epoch: this.#current,
      epoch_kept: epochKept,
      down_ms: Date.now() - this.#downSince,
    });
    this.callbacks.connection({ type: 'polling_ended', epoch: this.#current });
    if (!epochKept) this.callbacks.revoked(old);
    // What the gap's lost notifications would have said: read it now.
    this.callbacks.tick();
  }

  /** Takes a fresh advisory lock on `client` and returns its id. */
  async #newLock(client: pg.Client): Promise<number> {
    const n = this.names;
    const next = await this.#q<{ id: number }>(
      client,
      `SELECT nextval('"${n.tasks.slice(1, -1)}_lock_ids"')::int AS id`,
    );
    const id = next.rows[0]!.id;
    await this.#q(client, 'SELECT pg_advisory_lock($1, $2)', [n.lockClass, id]);
    return id;
  }

  async #begin(): Promise<void> {
    let lockId: number | null = null;
    const client = this.#client;
    if (client !== undefined) {
      if (this.#lockId !== null) {
        await this.#q(client, 'SELECT pg_advisory_unlock($1, $2)', [
          this.names.lockClass,
          this.#lockId,
        ]).catch(() => undefined);
        this.#lockId = null;
      }
      // Taken before the row exists, so no live-looking row is ever without its lock.
      lockId = await this.#newLock(client);
      this.#lockId = lockId;
    }
    await this.#insert(lockId);
  }

  async #insert(lockId: number | null): Promise<void> {
    const epoch = randomUUID();
    await this.pool.query(
      `INSERT INTO ${this.names.epochs} (epoch, instance_id, lock_id, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8 / 1000))`,
      [epoch, this.instanceId, lockId, this.timing.leaseMs],
    );
    this.#current = epoch;
  }

  #open(): Promise<pg.Client> {
    return openDedicated(this.clientConfig, this.timing.queryTimeoutMs, this.names.channel, {
      notify: (payload) => this.callbacks.notify(payload),
      lost: (client, error) => this.#lost(client, error),
    });
  }
}
