import type { Json, TaskId } from '../../wire/types.js';
import type { CancelScope, ControlRequest } from '../coordination.js';
import type { FenceState } from './fencedPut.js';
import { onceCtes, recordInput } from './inputControl.js';
import { backoff, MAX_BACKLOG } from './retry.js';

function inputBody(body: string | null): { response: Json; request: Json } {
  const b = JSON.parse(body ?? '{}') as { response?: Json; request?: Json };
  return { response: b.response ?? null, request: b.request ?? null };
}

/**
 * Cancel and message requests between replicas: recorded in the control table for the epoch that
 * owns each task (and notified), taken by that owner with `DELETE … RETURNING` — each exactly
 * once, in the order recorded. Requests sent from one process are recorded in call order; one that
 * fails to write is retried (later ones wait behind it) until it is written or the store closes;
 * a retry of one whose earlier attempt committed unheard writes nothing (see `onceCtes`).
 */
export class ControlRouter {
  readonly #s: FenceState;
  readonly #ready: () => Promise<void>;
  #sent: Promise<unknown> = Promise.resolve();
  #polling: Promise<void> = Promise.resolve();
  /** Requests not yet recorded. */
  pending = 0;
  /** Requests refused because the backlog was full. */
  dropped = 0;
  #closing = false;
  /** The order of the last request sent: a retry of a request already recorded writes nothing. */
  #order = 0;

  constructor(state: FenceState, ready: () => Promise<void>) {
    this.#s = state;
    this.#ready = ready;
  }

  /** Takes this epoch's control requests (each exactly once, in order) and hands them to the supervisor. */
  poll(deliver: (requests: readonly ControlRequest[]) => void): Promise<void> {
    this.#polling = this.#polling.then(() => this.#poll(deliver));
    return this.#polling;
  }

  async #poll(deliver: (requests: readonly ControlRequest[]) => void): Promise<void> {
    const res = await this.#s.pool
      .query<{ seq: string; task_id: string; kind: string; body: string | null }>(
        `DELETE FROM ${this.#s.names.control} WHERE epoch = $1 RETURNING seq, task_id, kind, body`,
        [this.#s.epoch()],
      )
      .catch(() => undefined);
    if (res === undefined || res.rows.length === 0) return;
    const rows = [...res.rows].sort((a, b) => Number(a.seq) - Number(b.seq));
    const requests: ControlRequest[] = rows.map((r) =>
      r.kind === 'message'
        ? {
            kind: 'message',
            taskId: r.task_id,
            ...(JSON.parse(r.body ?? '{}') as {
              threadId: string;
              from: string;
              content: string;
              messageId?: string;
            }),
          }
        : r.kind === 'input'
          ? { kind: 'input', taskId: r.task_id, ...inputBody(r.body) }
          : { kind: 'cancel', taskId: r.task_id },
    );
    deliver(requests);
  }

  cancel(scope: CancelScope): Promise<void> {
    return this.#send((order) => this.#cancel(scope, order));
  }

  sendMessage(
    taskId: TaskId,
    threadId: string,
    from: string,
    content: string,
    messageId?: string,
  ): Promise<void> {
    return this.#send((order) => this.#sendMessage(taskId, threadId, from, content, messageId, order));
  }

  provideInput(taskId: TaskId, response: Json, request: Json): Promise<void> {
    return this.#send(async (order) => {
      await this.#ready();
      await recordInput(this.#s, taskId, response, request, order);
    });
  }

  /** The store closes: requests still unwritten are given up. */
  close(): void {
    this.#closing = true;
  }

  #send(op: (order: number) => Promise<void>): Promise<void> {
    if (this.pending >= MAX_BACKLOG || this.#closing) {
      this.dropped++;
      return Promise.reject(
        new Error(
          this.#closing ? 'store is closed' : `${MAX_BACKLOG} control requests wait to be recorded already`,
        ),
      );
    }
    this.pending++;
    const order = ++this.#order;
    const run = this.#sent.then(async () => {
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            return await op(order);
          } catch (e) {
            if (this.#closing) throw e;
            await backoff(attempt);
          }
        }
      } finally {
        this.pending--;
      }
    });
    this.#sent = run.catch(() => undefined);
    return run;
  }

  async #cancel(scope: CancelScope, order: number): Promise<void> {
    await this.#ready();
    const n = this.#s.names;
    // The fence is keyed by the trimmed run id, as spawns look it up; a blank one names no run.
    const fenced = scope.kind === 'run' ? scope.runId.trim() : '';
    if (fenced !== '') {
      // Blocks on spawns of the run in flight (their upsert holds the row), so the cascade below sees them.
      await this.#s.pool.query(
        `INSERT INTO ${n.runs} (run_id, cancelled) VALUES ($1, true) ON CONFLICT (run_id) DO UPDATE SET cancelled = true`,
        [fenced],
      );
    }
    const roots =
      scope.kind === 'tree' || scope.kind === 'task'
        ? `SELECT $1::text AS task_id`
        : scope.kind === 'thread'
          ? `SELECT task_id FROM ${n.tasks} WHERE owner_thread_id = $1 AND status = 'running'`
          : `SELECT task_id FROM ${n.tasks} WHERE run_id = $1 AND parent_task_id IS NULL AND status = 'running'`;
    const arg =
      scope.kind === 'tree' || scope.kind === 'task'
        ? scope.taskId
        : scope.kind === 'thread'
          ? scope.threadId
          : scope.runId;
    // UNION (not UNION ALL) makes the walk cycle-safe.
    const walk =
      scope.kind === 'thread' || scope.kind === 'task'
        ? roots
        : `WITH RECURSIVE sub(task_id) AS (${roots} UNION SELECT t.task_id FROM ${n.tasks} t JOIN sub ON t.parent_task_id = sub.task_id)
           SELECT task_id FROM sub`;
    await this.#s.pool.query(
      `WITH ids AS (${walk}), ${onceCtes(this.#s, 2, 4)},
       req AS (
         INSERT INTO ${n.control} (epoch, task_id, kind)
         SELECT t.owner_epoch, t.task_id, 'cancel' FROM ${n.tasks} t JOIN ids USING (task_id)
         WHERE t.status = 'running' AND t.owner_epoch IS NOT NULL AND t.owner_epoch <> $2
           AND NOT (SELECT d FROM done)
         RETURNING epoch
       )
       SELECT e || coalesce(pg_notify($3, json_build_object('k', 'c', 'e', e)::text)::text, '')
       FROM (SELECT DISTINCT epoch AS e FROM req) x`,
      [arg, this.#s.epoch(), n.channel, order],
    );
  }

  async #sendMessage(
    taskId: TaskId,
    threadId: string,
    from: string,
    content: string,
    messageId: string | undefined,
    order: number,
  ): Promise<void> {
    await this.#ready();
    const n = this.#s.names;
    await this.#s.pool.query(
      `WITH ${onceCtes(this.#s, 4, 5)}, req AS (
         INSERT INTO ${n.control} (epoch, task_id, kind, body)
         SELECT owner_epoch, task_id, 'message', $2 FROM ${n.tasks}
         WHERE task_id = $1 AND status = 'running' AND owner_epoch IS NOT NULL AND NOT (SELECT d FROM done)
         RETURNING epoch
       )
       SELECT coalesce(pg_notify($3, json_build_object('k', 'c', 'e', epoch)::text)::text, '') FROM req`,
      [taskId, JSON.stringify({ threadId, from, content, messageId }), n.channel, this.#s.epoch(), order],
    );
  }
}
