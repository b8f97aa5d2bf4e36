import type { PersistedTaskMeta } from '../../wire/types.js';
import { assertRecordIds } from '../decode.js';

// The fenced put's parameters: PostgreSQL array literals built as node-postgres would, without its
// per-element work, and the records as one JSON array.

const NEEDS_ESCAPE = /["\\]/;

/** One element of a PostgreSQL text-array literal, quoted as node-postgres quotes it. */
function element(v: string | null | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  return NEEDS_ESCAPE.test(v) ? `"${v.replace(/[\\"]/g, '\\$&')}"` : `"${v}"`;
}

/**
 * A PostgreSQL text-array literal of `values` (what node-postgres builds for a JS array, every
 * element quoted), made without running two regex replacements over each element that needs none.
 * The elements are joined once, so the literal is one flat string: the driver measures and copies
 * it without first flattening a chain of a thousand concatenations.
 *
 * @example
 * textArray(['a', null, 'say "hi"']); // '{"a",NULL,"say \\"hi\\""}'
 */
export function textArray(values: readonly (string | null | undefined)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) parts[i] = element(values[i]);
  return `{${parts.join(',')}}`;
}

/**
 * A text-array literal of one column of `batch`, where `NULL` stands for `common` (a value most
 * rows share, sent once). A column with no other value is sent as `{}`: `ROWS FROM` pads the
 * shorter columns with `NULL`, so the database reads `common` for every row.
 *
 * @example
 * column(records, (r) => r.owner_thread_id, 't'); // '{}' when every record is on thread 't'
 */
export function column(
  batch: readonly PersistedTaskMeta[],
  get: (r: PersistedTaskMeta) => string | null | undefined,
  common: string | null = null,
): string {
  let parts: string[] | undefined;
  for (let i = 0; i < batch.length; i++) {
    const v = get(batch[i]!) ?? null;
    if (v === common) {
      if (parts !== undefined) parts[i] = 'NULL';
    } else {
      if (parts === undefined) parts = new Array<string>(batch.length).fill('NULL', 0, i);
      parts[i] = element(v);
    }
  }
  return parts === undefined ? '{}' : `{${parts.join(',')}}`;
}

/**
 * The records as one JSON array, each element the text the store keeps for its record (what
 * `JSON.stringify(record)` gives). Throws before anything is written for a record JSON cannot
 * hold (a `BigInt`, a cycle), so a put stays all-or-nothing.
 *
 * @example
 * recordsArray([record]); // '[{"task_id":"bg_0",…}]'
 */
export function recordsArray(records: readonly PersistedTaskMeta[]): string {
  for (const r of records) assertRecordIds(r);
  return JSON.stringify(records);
}

/**
 * A PostgreSQL boolean-array literal of `values`; `{}` (all `NULL`, read as false) when none is true.
 *
 * @example
 * boolArray([false, true]); // '{f,t}'
 */
export function boolArray(values: readonly boolean[]): string {
  if (!values.includes(true)) return '{}';
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) parts[i] = values[i] ? 't' : 'f';
  return `{${parts.join(',')}}`;
}
