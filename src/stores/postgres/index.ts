/**
 * Entry `awaken-tasks/postgres`: the store for several processes on one PostgreSQL database. Its
 * own entry point so that `pg` is only loaded by programs that use it.
 *
 * @example
 * import { PostgresTaskStore } from 'awaken-tasks/postgres';
 * const store = new PostgresTaskStore({ connectionString: 'postgres://localhost/agent', leaseMs: 15_000 });
 *
 * @packageDocumentation
 * @module awaken-tasks/postgres
 */
export {
  DEFAULT_LEASE_MS,
  PostgresTaskStore,
  type PostgresTaskStoreOptions,
} from './PostgresTaskStore.js';
export { PgDurableStore } from './durable.js';
export { PostgresMessageOutbox } from './outbox.js';
export { RejectedRecordError } from './fencedPut.js';
export type { CorruptRecord } from '../types.js';
export { DriverError, type DriverErrorCode } from '../driverError.js';
