import { toJson } from './jsonSafe.js';
import type {
  Json,
  PersistedTaskMeta,
  TaskEvent,
  TaskParentContext,
  TaskStatus,
  TaskStopReason,
  TaskUsage,
} from './types.js';
import { TASK_STATUSES } from './types.js';
import { parseDurableFields } from './durableFields.js';

type Obj = Readonly<Record<string, unknown>>;

const EVENT_KINDS: readonly TaskEvent['kind'][] = ['completed', 'failed', 'cancelled', 'custom'];
const CONTEXT_KEYS = ['task_id', 'run_id', 'call_id', 'agent_id'] as const;

/** A short rendering of a bad value for error messages (strings quoted, containers named). */
function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n (a BigInt)`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

function fail(field: string, expected: string, got: unknown): never {
  throw new TypeError(`Expected \`${field}\` to be ${expected}, got ${show(got)}`);
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own member, so inherited properties (`constructor`, a prototype's getters) are never read. */
function own(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

function reqString(o: Obj, key: string, path = key): string {
  const v = own(o, key);
  if (typeof v !== 'string') fail(path, 'a string', v);
  return v;
}

/** `undefined` when absent or `null` (serde `Option`), else the string. */
function optString(o: Obj, key: string, path = key): string | undefined {
  const v = own(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(path, 'a string', v);
  return v;
}

function millis(v: unknown, key: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(key, 'a non-negative integer', v);
  // -0 would not survive a JSON round trip as itself.
  return v === 0 ? 0 : v;
}

/** Plain JSON, or a `TypeError`; `toJson` can also fail inside a `toJSON` method or `JSON.parse`. */
function plain(v: unknown, key: string): Json {
  try {
    return toJson(v, key);
  } catch (e) {
    if (e instanceof TypeError) throw e;
    throw new TypeError(
      `Expected \`${key}\` to be JSON-safe, got ${e instanceof Error ? e.message : show(e)}`,
    );
  }
}

function parentContext(v: unknown): TaskParentContext {
  const out: TaskParentContext = {};
  if (v === undefined || v === null) return out;
  if (!isObj(v)) fail('parent_context', 'an object', v);
  for (const key of CONTEXT_KEYS) {
    const s = optString(v, key, `parent_context.${key}`);
    if (s !== undefined) out[key] = s;
  }
  return out;
}

/**
 * Validates a persisted task record (an already-parsed JSON value, e.g. from a store) and returns a
 * clean copy in wire order.
 *
 * Accepts legacy records written by older runtimes: a missing `owner_thread_id` becomes `''`, a
 * missing `parent_context` becomes `{}`. A `null` optional field counts as absent, as with serde's
 * `Option`; a `null` result is omitted (wire rule: omitted when null). Unknown fields are ignored.
 *
 * Guarantees: the result holds only known fields, never `undefined` members, and its `result` is
 * plain JSON, so it survives a JSON round trip unchanged. Anything else throws a `TypeError` naming
 * the bad field (dotted for nested ones, e.g. `parent_context.run_id`).
 *
 * @example
 * parsePersistedTaskMeta({ task_id: 'bg_old', task_type: 'shell', description: 'legacy task',
 *   status: 'completed', created_at_ms: 100, completed_at_ms: 200 });
 * // → { task_id: 'bg_old', owner_thread_id: '', …, parent_context: {} }
 */
export function parsePersistedTaskMeta(json: unknown): PersistedTaskMeta {
  if (!isObj(json)) fail('json', 'an object', json);
  const task_id = reqString(json, 'task_id');
  const owner_thread_id = optString(json, 'owner_thread_id') ?? '';
  const task_type = reqString(json, 'task_type');
  const name = optString(json, 'name');
  const description = reqString(json, 'description');
  const status = parseStatus(own(json, 'status'));
  const error = optString(json, 'error');
  const rawResult = own(json, 'result');
  const result = rawResult === undefined || rawResult === null ? null : plain(rawResult, 'result');
  const created_at_ms = millis(own(json, 'created_at_ms'), 'created_at_ms');
  const rawCompleted = own(json, 'completed_at_ms');
  const completed_at_ms =
    rawCompleted === undefined || rawCompleted === null ? undefined : millis(rawCompleted, 'completed_at_ms');
  const parent_context = parentContext(own(json, 'parent_context'));
  const stop_reason = stopReason(own(json, 'stop_reason'));
  const usage = usageOf(own(json, 'usage'), 'usage');
  const budget = usageOf(own(json, 'budget'), 'budget');
  const rawRequest = own(json, 'input_request');
  const input_request = rawRequest === undefined ? undefined : plain(rawRequest, 'input_request');

  // Wire order, optional fields only when set.
  const meta: PersistedTaskMeta = {
    task_id,
    owner_thread_id,
    task_type,
    ...(name !== undefined && { name }),
    description,
    status,
    ...(error !== undefined && { error }),
    ...(result !== null && { result }),
    created_at_ms,
    ...(completed_at_ms !== undefined && { completed_at_ms }),
    parent_context,
    ...(stop_reason !== undefined && { stop_reason }),
    ...(usage !== undefined && { usage }),
    ...(budget !== undefined && { budget }),
    ...(input_request !== undefined && { phase: 'waiting' as const, input_request }),
  };
  // A durable task's record (it always has `max_attempts`) keeps its attempt fields.
  return own(json, 'max_attempts') === undefined ? meta : { ...meta, ...parseDurableFields(json) };
}

function usageOf(v: unknown, key: string): TaskUsage | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) return fail(key, 'an object of numbers', v);
  const out: TaskUsage = {};
  for (const field of ['tokens', 'cost_usd', 'tool_calls'] as const) {
    const n = own(v, field);
    if (n === undefined || n === null) continue;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
      fail(`${key}.${field}`, 'a non-negative number', n);
    out[field] = n;
  }
  return out;
}

const STOP_REASONS: readonly TaskStopReason[] = [
  'user',
  'parent',
  'run',
  'timeout',
  'budget',
  'orphaned',
  'shutdown',
];

function stopReason(v: unknown): TaskStopReason | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && (STOP_REASONS as readonly string[]).includes(v)) return v as TaskStopReason;
  return fail('stop_reason', `one of ${STOP_REASONS.join(', ')}`, v);
}

function parseStatus(v: unknown): TaskStatus {
  if (typeof v === 'string' && (TASK_STATUSES as readonly string[]).includes(v)) return v as TaskStatus;
  return fail('status', `one of ${TASK_STATUSES.join(', ')}`, v);
}

/**
 * Validates a task event (an already-parsed JSON value, internally tagged by `kind`) and returns a
 * clean copy holding only the fields of its kind.
 *
 * A `completed` event without `result` (or with `result: null`) gets `result: null`; `failed` needs
 * a string `error`; `custom` needs a string `event_type` and a `payload` (any JSON, `null` allowed).
 * Unknown fields are ignored. `result` and `payload` must be JSON-safe and come out as plain JSON.
 * Anything else throws a `TypeError` naming the bad field.
 *
 * @example
 * parseTaskEvent({ kind: 'completed', task_id: 'bg_0' }); // { kind: 'completed', task_id: 'bg_0', result: null }
 * parseTaskEvent({ kind: 'done', task_id: 'bg_0' });      // throws TypeError: Expected `kind` to be one of …
 */
export function parseTaskEvent(json: unknown): TaskEvent {
  if (!isObj(json)) fail('json', 'an object', json);
  const kind = own(json, 'kind');
  if (typeof kind !== 'string' || !(EVENT_KINDS as readonly string[]).includes(kind)) {
    fail('kind', `one of ${EVENT_KINDS.join(', ')}`, kind);
  }
  const task_id = reqString(json, 'task_id');
  switch (kind as TaskEvent['kind']) {
    case 'completed': {
      const raw = own(json, 'result');
      return { kind: 'completed', task_id, result: raw === undefined ? null : plain(raw, 'result') };
    }
    case 'failed':
      return { kind: 'failed', task_id, error: reqString(json, 'error') };
    case 'cancelled':
      return { kind: 'cancelled', task_id };
    case 'custom': {
      const event_type = reqString(json, 'event_type');
      const payload = own(json, 'payload');
      if (payload === undefined) fail('payload', 'a JSON value', payload);
      return { kind: 'custom', task_id, event_type, payload: plain(payload, 'payload') };
    }
  }
}
