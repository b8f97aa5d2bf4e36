import type { PersistedTaskMeta } from '../../wire/types.js';
import { sameJson } from '../../wire/sameJson.js';

/**
 * Whether two records are the same version: equal JSON values whatever their key order, with
 * `undefined` members treated as absent (as JSON stores them).
 *
 * @example
 * sameRecord({ ...a, result: undefined }, JSON.parse(JSON.stringify(a))); // true
 */
export function sameRecord(a: PersistedTaskMeta, b: PersistedTaskMeta): boolean {
  return sameJson(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}
