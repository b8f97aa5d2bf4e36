import { parsePersistedTaskMeta } from '../wire/parse.js';
import type { PersistedTaskMeta } from '../wire/types.js';
import type { CorruptRecord } from './types.js';

/** Options every durable store takes for rows it cannot read. */
export interface CorruptRecordOptions {
  /**
   * Called once per unreadable row, with its task id and the reason: a task record during `load`,
   * or a durable task's row (reason `durable row: …`) whenever the store reads it (`register` then
   * skips that task and takes up the others).
   */
  onCorrupt?: (bad: CorruptRecord) => void;
}

/** The records a load could read, and the rows it could not. */
export interface DecodedRows {
  readonly records: PersistedTaskMeta[];
  readonly corrupt: CorruptRecord[];
}

/**
 * Decodes stored rows (`task_id` column plus the record's JSON text) into validated records.
 * A bad row never throws: it is reported with its id and reason, so one corrupt record cannot
 * make a whole thread unloadable after a restart.
 *
 * @example
 * decodeRows([{ task_id: 'bg_0', record: '{' }]).corrupt[0]?.reason; // 'invalid JSON: …'
 */
export function decodeRows(
  rows: Iterable<{ readonly task_id: string; readonly record: string }>,
  onCorrupt?: (bad: CorruptRecord) => void,
): DecodedRows {
  const records: PersistedTaskMeta[] = [];
  const corrupt: CorruptRecord[] = [];
  for (const row of rows) {
    const decoded = decodeRecord(row.task_id, row.record);
    if (typeof decoded === 'string') corrupt.push({ task_id: row.task_id, reason: decoded });
    else records.push(decoded);
  }
  if (onCorrupt) for (const bad of corrupt) onCorrupt(bad);
  return { records, corrupt };
}

/**
 * Decodes one stored record (its JSON text, kept under `taskId`) into a validated record, or
 * returns why it cannot: invalid JSON, a bad field, or a record holding another task id.
 *
 * @example
 * decodeRecord('bg_0', '{'); // 'invalid JSON: …'
 */
export function decodeRecord(taskId: string, text: string): PersistedTaskMeta | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return `invalid JSON: ${message(e)}`;
  }
  try {
    const meta = parsePersistedTaskMeta(json);
    // The key column is what `put` upserted by; a record claiming another id is not this row.
    if (meta.task_id !== taskId) return `record holds task_id ${JSON.stringify(meta.task_id)}`;
    return meta;
  } catch (e) {
    return message(e);
  }
}

/**
 * The JSON text a store keeps for each record. Throws (before anything is written) for a record
 * JSON cannot hold (a `BigInt`, a cycle), so a `put` stays all-or-nothing.
 *
 * @example
 * encodeRecords([meta]); // ['{"task_id":"bg_0",…}']
 */
export function encodeRecords(records: readonly PersistedTaskMeta[]): string[] {
  return records.map((r) => {
    assertRecordIds(r);
    return JSON.stringify(r);
  });
}

/**
 * Throws a `TypeError` for a record whose `task_id` or `owner_thread_id` is not a string: no
 * store can key it.
 *
 * @example
 * assertRecordIds(meta); // returns, or throws before anything is written
 */
export function assertRecordIds(r: PersistedTaskMeta): void {
  if (typeof r.task_id !== 'string' || typeof r.owner_thread_id !== 'string') {
    throw new TypeError('Expected `task_id` and `owner_thread_id` to be strings');
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
