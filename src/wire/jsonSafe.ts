import type { Json } from './types.js';

/**
 * Returns why `value` is not JSON-safe, or `undefined` when it is. `undefined` object members are
 * allowed (JSON drops them); a `BigInt`, a cycle, a function, a symbol, a non-finite number or
 * `undefined` at the top level or in an array is not. The walk is iterative-free recursion bounded
 * by the value's depth; objects with a `toJSON` method are allowed as `JSON.stringify` calls it.
 *
 * @example
 * jsonSafetyProblem({ n: 1n }); // '$.n is a BigInt'
 * jsonSafetyProblem({ ok: true }); // undefined
 */
export function jsonSafetyProblem(value: unknown, path = '$'): string | undefined {
  return check(value, path, { seen: new Set<object>() }, false);
}

interface Walk {
  readonly seen: Set<object>;
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
      return member ? undefined : `${path} is undefined`;
    default:
      break;
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return undefined;
  if (obj instanceof Map || obj instanceof Set) return `${path} is a ${obj instanceof Map ? 'Map' : 'Set'}`;
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
 * Returns a copy of `value` as plain JSON (so a later change to the caller's object cannot reach
 * what was sent or stored), or throws `TypeError` naming the problem. Plain values are copied by a
 * direct walk; others (`undefined` members, `toJSON`, class instances) through `JSON.stringify`.
 *
 * @example
 * toJson({ a: 1, b: undefined }, 'payload'); // { a: 1 }
 */
export function toJson(value: unknown, what: string): Json {
  if (value === undefined) return null;
  const copy = copyPlainJson(value, 0);
  // The rest out of line, so this stays small enough for V8 to inline into `emit`.
  return copy !== NOT_PLAIN ? copy : toJsonSlow(value, what);
}

/** `toJson` for a value the direct copy did not take: checked, then through `JSON.stringify`. */
function toJsonSlow(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  }
  const walk: Walk = { seen: new Set<object>() };
  const problem = check(value, what, walk, false);
  if (problem !== undefined) throw new TypeError(`Expected \`${what}\` to be JSON-safe, got ${problem}`);
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

const FAST_DEPTH = 64;
const NOT_PLAIN: unique symbol = Symbol('not plain');

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * The hot path of `emit` and of results: a copy of `value` when it is plain JSON that
 * `JSON.stringify` would keep as is, else `NOT_PLAIN`. It allocates only the copy (no visited set,
 * no paths, no key array): a cycle just runs past `FAST_DEPTH`, and the slow walk then names the
 * problem.
 */
function copyPlainJson(value: unknown, depth: number): Json | typeof NOT_PLAIN {
  if (typeof value === 'object') return value === null ? null : copyPlainObject(value, depth);
  return copyPrimitive(value);
}

/** A JSON primitive as is (`typeof` tests, not a `switch` on its result: those compile to checks). */
function copyPrimitive(value: unknown): Json | typeof NOT_PLAIN {
  if (typeof value === 'number') return value - value === 0 ? value : NOT_PLAIN; // NaN and ±Infinity fail
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  return NOT_PLAIN;
}

function copyPlainObject(value: object, depth: number): Json | typeof NOT_PLAIN {
  if (depth >= FAST_DEPTH) return NOT_PLAIN;
  if (Array.isArray(value)) {
    const n = value.length;
    const out: Json[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const m: unknown = value[i];
      const v =
        typeof m === 'object' ? (m === null ? null : copyPlainObject(m, depth + 1)) : copyPrimitive(m);
      if (v === NOT_PLAIN) return NOT_PLAIN;
      out[i] = v;
    }
    return out;
  }
  // A named load first: its map check lets V8 fold the prototype read below to a constant (without
  // it `Object.getPrototypeOf` calls into the runtime, the largest single cost of an emit). A
  // `toJSON`, own or inherited, is for the slow path, as `JSON.stringify` calls it.
  if ((value as { toJSON?: unknown }).toJSON !== undefined) return NOT_PLAIN;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const out: { [key: string]: Json } = {};
  // Own enumerable string keys, in the order JSON.stringify serialises them; `for … in` reads the
  // map's enum cache where `Object.keys` would allocate an array per copy.
  for (const key in value) {
    if (!hasOwn.call(value, key)) continue;
    // Assigning `__proto__` would set the copy's prototype; JSON.parse keeps it as a key.
    if (key.length === 9 && key === '__proto__') return NOT_PLAIN;
    const m: unknown = (value as Record<string, unknown>)[key];
    // An `undefined` member (which JSON drops) is for the slow path too.
    const v = typeof m === 'object' ? (m === null ? null : copyPlainObject(m, depth + 1)) : copyPrimitive(m);
    if (v === NOT_PLAIN) return NOT_PLAIN;
    out[key] = v;
  }
  return out;
}
