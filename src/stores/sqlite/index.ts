/**
 * Entry `awaken-tasks/sqlite`: the embedded durable store. Its own entry point so that
 * `better-sqlite3` is only loaded by programs that use it.
 *
 * @example
 * import { SqliteTaskStore } from 'awaken-tasks/sqlite';
 * const store = new SqliteTaskStore(':memory:');
 *
 * @packageDocumentation
 * @module awaken-tasks/sqlite
 */
export { SqliteTaskStore, type SqliteTaskStoreOptions } from './SqliteTaskStore.js';
export { SqliteStoreError, type SqliteStoreErrorCode, type SqliteFileOwner } from './errors.js';
export type { CorruptRecord, PutResult } from '../types.js';
export { SqliteMessageOutbox } from './outbox.js';
export { DriverError, type DriverErrorCode } from '../driverError.js';
export { SqliteDurableStore } from './durable.js';
