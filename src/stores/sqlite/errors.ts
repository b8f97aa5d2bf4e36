/** Why a SQLite task store refused to open a file or to write to it. */
export type SqliteStoreErrorCode =
  | 'newer_schema'
  | 'foreign_database'
  | 'read_only_file'
  | 'owned_elsewhere'
  | 'opened_read_only';

/** The live process that owns a SQLite task file, as its owner row describes it. */
export interface SqliteFileOwner {
  readonly instanceId: string;
  readonly pid: number;
  readonly host: string;
  /** When it took the file, in ms since the epoch (its own clock). */
  readonly sinceMs: number;
}

/**
 * A SQLite task file the store would not open (or a write a read-only store would not make).
 * `code` is stable; `path` names the file; the message says what to do. The file was not changed.
 *
 * @example
 * try { new SqliteTaskStore('./tasks.db'); }
 * catch (e) {
 *   if (e instanceof SqliteStoreError && e.code === 'owned_elsewhere') console.error(e.owner?.pid);
 * }
 */
export class SqliteStoreError extends Error {
  override readonly name = 'SqliteStoreError';
  readonly code: SqliteStoreErrorCode;
  /** The file concerned, as given to the store. */
  readonly path: string;
  /** For `owned_elsewhere`: the owner, when its row could be read. */
  readonly owner?: SqliteFileOwner;
  constructor(
    code: SqliteStoreErrorCode,
    path: string,
    message: string,
    options?: { cause?: unknown; owner?: SqliteFileOwner },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = path;
    if (options?.owner !== undefined) this.owner = options.owner;
  }
}
