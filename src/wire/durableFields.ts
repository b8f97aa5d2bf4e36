import type { DurableSummaryFields } from './types.js';

const NUMBER_FIELDS = ['attempt', 'max_attempts', 'next_attempt_at_ms'] as const;
const STRING_FIELDS = ['last_error', 'idempotency_key'] as const;
const PHASES: readonly string[] = ['queued', 'waiting', 'retrying'];

/**
 * Copies the durable-task fields (present only on durable tasks, which always carry
 * `max_attempts`) from one wire shape to another. Callers check `max_attempts` first, so a plain
 * task's conversion reads one property more and copies nothing.
 */
export function copyDurableFields(from: DurableSummaryFields, to: DurableSummaryFields): void {
  if (from.phase !== undefined) to.phase = from.phase;
  if (from.attempt !== undefined) to.attempt = from.attempt;
  if (from.max_attempts !== undefined) to.max_attempts = from.max_attempts;
  if (from.next_attempt_at_ms !== undefined) to.next_attempt_at_ms = from.next_attempt_at_ms;
  if (from.last_error !== undefined) to.last_error = from.last_error;
  if (from.attempt_errors !== undefined) to.attempt_errors = from.attempt_errors;
  if (from.idempotency_key !== undefined) to.idempotency_key = from.idempotency_key;
}

/** The durable fields of a parsed JSON record, checked; fields of the wrong type are dropped. */
export function parseDurableFields(json: Readonly<Record<string, unknown>>): DurableSummaryFields {
  const out: DurableSummaryFields = {};
  const own = (k: string): unknown => (Object.hasOwn(json, k) ? json[k] : undefined);
  const phase = own('phase');
  if (typeof phase === 'string' && PHASES.includes(phase))
    out.phase = phase as 'queued' | 'waiting' | 'retrying';
  for (const k of NUMBER_FIELDS) {
    const v = own(k);
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  for (const k of STRING_FIELDS) {
    const v = own(k);
    if (typeof v === 'string') out[k] = v;
  }
  const errors = own('attempt_errors');
  if (Array.isArray(errors) && errors.every((e) => typeof e === 'string')) out.attempt_errors = [...errors];
  return out;
}
