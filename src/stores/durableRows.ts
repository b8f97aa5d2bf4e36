import type { Json } from '../wire/types.js';
import { decodeRecord } from './decode.js';
import type { DurableRow, DurableState } from './durable.js';
import type { CorruptRecord } from './types.js';

/** The columns of a stored durable row, in the order the SQL stores list, insert and return them. */
export const DURABLE_COLUMNS = [
  'task_id',
  'thread_id',
  'task_type',
  'idempotency_key',
  'state',
  'attempt',
  'max_attempts',
  'next_run_at_ms',
  'owner',
  'record',
  'input',
  'errors',
] as const;

/**
 * A durable row as a SQL store reads it: nullable columns as `null`, the record, input and errors
 * as JSON text, the next run time as a number or a bigint's decimal text.
 */
export interface StoredDurableRow {
  readonly task_id: string;
  readonly thread_id: string;
  readonly task_type: string;
  readonly idempotency_key: string | null;
  readonly state: string;
  readonly attempt: number;
  readonly max_attempts: number;
  readonly next_run_at_ms: number | string;
  readonly owner: string | null;
  readonly record: string;
  readonly input: string;
  readonly errors: string;
}

const STATES: readonly DurableState[] = ['waiting', 'running', 'done'];

/**
 * The column values of `row`, by {@link DURABLE_COLUMNS} name: what a SQL store inserts.
 *
 * @example
 * const values = encodeDurableRow(row);
 * DURABLE_COLUMNS.map((c) => values[c]); // positional parameters, in column order
 */
export function encodeDurableRow(row: DurableRow): StoredDurableRow {
  return {
    task_id: row.task_id,
    thread_id: row.thread_id,
    task_type: row.task_type,
    idempotency_key: row.idempotency_key ?? null,
    state: row.state,
    attempt: row.attempt,
    max_attempts: row.max_attempts,
    next_run_at_ms: row.next_run_at_ms,
    owner: row.owner ?? null,
    record: JSON.stringify(row.record),
    input: JSON.stringify(row.input),
    errors: JSON.stringify(row.attempt_errors),
  };
}

/**
 * Decodes stored durable rows, validated the way `decodeRows` validates task records: a row that
 * cannot be read (bad JSON, a record of the wrong shape or another task id, an unknown state, bad
 * numbers or errors) never throws; it is left out and reported to `onCorrupt` with its task id and
 * the reason (`durable row: …`), so one bad row cannot stop the others from being taken up.
 *
 * @example
 * const rows = decodeDurableRows(stored, (bad) => console.warn(bad.task_id, bad.reason));
 */
export function decodeDurableRows(
  rows: Iterable<StoredDurableRow>,
  onCorrupt: ((bad: CorruptRecord) => void) | undefined,
): DurableRow[] {
  const out: DurableRow[] = [];
  for (const r of rows) {
    const row = decodeDurableRow(r);
    if (typeof row !== 'string') out.push(row);
    else onCorrupt?.({ task_id: String(r.task_id), reason: `durable row: ${row}` });
  }
  return out;
}

/**
 * One stored durable row, validated, or why it cannot be read.
 *
 * @example
 * const row = decodeDurableRow(stored);
 * if (typeof row === 'string') console.warn('unreadable:', row);
 */
export function decodeDurableRow(r: StoredDurableRow): DurableRow | string {
  for (const key of ['task_id', 'thread_id', 'task_type', 'record', 'input', 'errors'] as const) {
    if (typeof r[key] !== 'string') return `\`${key}\` is not text`;
  }
  for (const key of ['idempotency_key', 'owner'] as const) {
    if (r[key] !== null && typeof r[key] !== 'string') return `\`${key}\` is not text`;
  }
  if (!STATES.includes(r.state as DurableState)) return `unknown state ${JSON.stringify(r.state)}`;
  if (!Number.isSafeInteger(r.attempt) || r.attempt < 0) return `bad attempt ${String(r.attempt)}`;
  if (!Number.isSafeInteger(r.max_attempts) || r.max_attempts < 1) {
    return `bad max_attempts ${String(r.max_attempts)}`;
  }
  const nextRunAtMs = Number(r.next_run_at_ms);
  if (!Number.isFinite(nextRunAtMs)) return `bad next_run_at_ms ${String(r.next_run_at_ms)}`;
  const record = decodeRecord(r.task_id, r.record);
  if (typeof record === 'string') return `record: ${record}`;
  const input = parseJson(r.input);
  if (input === BAD) return 'input: invalid JSON';
  const errors = parseJson(r.errors);
  if (!Array.isArray(errors) || !errors.every((e) => typeof e === 'string')) {
    return 'errors: not an array of strings';
  }
  return {
    task_id: r.task_id,
    thread_id: r.thread_id,
    task_type: r.task_type,
    record,
    input,
    state: r.state as DurableState,
    attempt: r.attempt,
    max_attempts: r.max_attempts,
    next_run_at_ms: nextRunAtMs,
    attempt_errors: errors as string[],
    ...(r.idempotency_key === null ? {} : { idempotency_key: r.idempotency_key }),
    ...(r.owner === null ? {} : { owner: r.owner }),
  };
}

/**
 * A task's stored steps and checkpoints (`name`, JSON text `value`) by name. A value that is not
 * JSON throws, naming the step: the task that reads it fails, the others are untouched.
 *
 * @example
 * decodeSteps([{ name: 'fetch', value: '{"pages":3}' }]); // { fetch: { pages: 3 } }
 */
export function decodeSteps(
  rows: Iterable<{ readonly name: string; readonly value: string }>,
): Record<string, Json> {
  const out: [string, Json][] = [];
  for (const { name, value } of rows) {
    const json = parseJson(value);
    if (json === BAD) throw new TypeError(`Expected the stored step '${name}' to be JSON text`);
    out.push([name, json]);
  }
  // fromEntries defines each name as an own member (a step named `__proto__` included).
  return Object.fromEntries(out);
}

const BAD: unique symbol = Symbol('bad JSON');

function parseJson(text: string): Json | typeof BAD {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return BAD;
  }
}
