import type { PersistedTaskMeta } from '../../wire/types.js';

/**
 * Whether two records are the same version: equal JSON values whatever their key order, with
 * `undefined` members treated as absent (as JSON stores them).
 *
 * @example
 * sameRecord({ ...a, result: undefined }, JSON.parse(JSON.stringify(a))); // true
 */
export function sameRecord(a: PersistedTaskMeta, b: PersistedTaskMeta): boolean {
  return same(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && same((a as never)[k], (b as never)[k]));
}
