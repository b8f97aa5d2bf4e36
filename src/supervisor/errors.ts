import type { TaskEvent, TaskStatus } from '../wire/types.js';

/** Why a spawn was refused. */
export type SpawnErrorCode =
  | 'reserved_name'
  | 'duplicate_name'
  | 'parent_cancelled'
  | 'supervisor_stopped'
  | 'store_failed'
  /** The supervisor's queue (`concurrency.maxQueued`) is full. */
  | 'queue_full';

/**
 * A spawn the supervisor refused; `code` is stable, `message` is the contract's text.
 *
 * @example
 * try { await supervisor.spawn({ ...opts, name: 'self' }, body); }
 * catch (e) { if (e instanceof SpawnError && e.code === 'reserved_name') … }
 */
export class SpawnError extends Error {
  override readonly name = 'SpawnError';
  readonly code: SpawnErrorCode;
  constructor(code: SpawnErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Why a message to a sub-agent was refused. */
export type SendErrorCode = 'task_not_found' | 'not_owner' | 'task_terminated' | 'no_inbox' | 'inbox_closed';

const SEND_MESSAGES: Record<Exclude<SendErrorCode, 'task_terminated'>, string> = {
  task_not_found: 'task not found',
  not_owner: 'caller does not own this task',
  no_inbox: 'task has no inbox (not a sub-agent)',
  inbox_closed: 'sub-agent inbox closed',
};

/**
 * A message `sendTaskInboxMessage` could not deliver; `status` is set for `task_terminated`.
 *
 * @example
 * new SendError('task_terminated', 'completed').message; // 'task already completed'
 */
export class SendError extends Error {
  override readonly name = 'SendError';
  readonly code: SendErrorCode;
  readonly status?: TaskStatus;
  constructor(code: 'task_terminated', status: TaskStatus);
  constructor(code: Exclude<SendErrorCode, 'task_terminated'>);
  constructor(code: SendErrorCode, status?: TaskStatus) {
    super(code === 'task_terminated' ? `task already ${status}` : SEND_MESSAGES[code]);
    this.code = code;
    if (status !== undefined) this.status = status;
  }
}

/** Why records could not be written. */
export type StoreErrorCode = 'store_unwritten';

/**
 * Records the store did not accept in time: `stop()` rejects with it after `stopTimeoutMs` of
 * retries, naming each record (`taskIds`); `cause` is the store's last error. The records stay in
 * memory, truthful, and are still retried while the process lives.
 *
 * @example
 * try { await supervisor.stop(); }
 * catch (e) { if (e instanceof StoreError && e.code === 'store_unwritten') console.error(e.taskIds); }
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  /** The ids of the records still unwritten. */
  readonly taskIds: readonly string[];
  /** With replicas: the custom events still unstored (retried while the process lives). */
  readonly events: readonly TaskEvent[];
  /** With replicas: how many cancel and message requests are still unrecorded. */
  readonly controlRequests: number;
  constructor(
    code: StoreErrorCode,
    taskIds: readonly string[],
    options?: { cause?: unknown; events?: readonly TaskEvent[]; controlRequests?: number },
  ) {
    const shown =
      taskIds.length > 20
        ? `${taskIds.slice(0, 20).join(', ')} and ${taskIds.length - 20} more`
        : taskIds.join(', ');
    const events = options?.events ?? [];
    const control = options?.controlRequests ?? 0;
    const extra =
      events.length > 0 || control > 0
        ? `; ${events.length} event(s) and ${control} control request(s) unstored`
        : '';
    super(
      `store did not accept ${taskIds.length} record(s): ${shown}${extra}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.taskIds = Object.freeze([...taskIds]);
    this.events = Object.freeze([...events]);
    this.controlRequests = control;
  }
}
