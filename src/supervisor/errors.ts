import type { TaskStatus } from '../wire/types.js';

/** Why a spawn was refused. */
export type SpawnErrorCode =
  | 'reserved_name'
  | 'duplicate_name'
  | 'parent_cancelled'
  | 'supervisor_stopped'
  | 'store_failed';

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
