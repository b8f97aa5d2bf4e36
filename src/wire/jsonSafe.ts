import type { Json } from './types.js';

/**
 * Returns why `value` is not JSON-safe, or `undefined` when it is. `undefined` object members are
 * allowed (JSON drops them); a `BigInt`, a cycle, a function, a symbol, a non-finite number or
 * `undefined` at the top level or in an array is not. The walk is iterative-free recursion bounded
 * by the value's depth; objects with a `toJSON` method are allowed as `JSON.stringify` calls it.
 */
export function jsonSafetyProblem(value: unknown, path = '$'): string | undefined {
  return check(value, path, { seen: new Set<object>(), needsCopy: false }, false);
}

interface Walk {
  readonly seen: Set<object>;
  // Set when JSON.stringify would change the value (dropped `undefined` members, `toJSON`).
  needsCopy: boolean;
}

function check(value: unknown, path: string, walk: Walk, member: boolean): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is a non-finite number (${value})`;
    case 'bigint':
      return `${path} is a BigInt`;
    case 'function':
      return `${path} is a function`;
    case 'symbol':
      return `${path} is a symbol`;
    case 'undefined':
      if (!member) return `${path} is undefined`;
      walk.needsCopy = true;
      return undefined;
    default:
      break;
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    walk.needsCopy = true;
    return undefined;
  }
  const seen = walk.seen;
  if (seen.has(obj)) return `${path} is a cycle`;
  seen.add(obj);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const p = check(obj[i], `${path}[${i}]`, walk, false);
      if (p) return p;
    }
  } else {
    for (const key of Object.keys(obj)) {
      const p = check((obj as Record<string, unknown>)[key], `${path}.${key}`, walk, true);
      if (p) return p;
    }
  }
  seen.delete(obj);
  return undefined;
}

/**
 * Returns `value` as plain JSON, or throws `TypeError` naming the problem. The value itself is
 * returned when it is already plain JSON (no copy on the hot path); it is copied through
 * `JSON.stringify`/`JSON.parse` only when that would change it (`undefined` members, `toJSON`).
 *
 * @example
 * toJson({ a: 1, b: undefined }, 'payload'); // { a: 1 }
 */
export function toJson(value: unknown, what: string): Json {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  }
  const walk: Walk = { seen: new Set<object>(), needsCopy: false };
  const problem = check(value, what, walk, false);
  if (problem !== undefined) throw new TypeError(`Expected \`${what}\` to be JSON-safe, got ${problem}`);
  if (!walk.needsCopy) return value as Json;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new TypeError(
      `Expected \`${what}\` to be JSON-safe, got a toJSON that threw: ${(e as Error).message}`,
    );
  }
  if (text === undefined)
    throw new TypeError(`Expected \`${what}\` to be JSON-safe, got a toJSON that returned undefined`);
  return JSON.parse(text) as Json;
}
