import type { TaskUsage } from '../wire/types.js';

/**
 * Usage a task reports with `ctx.reportUsage` (each field optional, non-negative, added to what
 * it reported before); also the shape of a `budget`.
 *
 * @example
 * ctx.reportUsage({ tokens: 1200, costUsd: 0.004, toolCalls: 1 });
 */
export interface Usage {
  tokens?: number;
  costUsd?: number;
  toolCalls?: number;
}

const FIELDS = [
  ['tokens', 'tokens'],
  ['costUsd', 'cost_usd'],
  ['toolCalls', 'tool_calls'],
] as const;

/**
 * Checks a usage report or a budget and returns it as the wire's snake_case `TaskUsage`; throws
 * `TypeError` for anything but an object of non-negative finite numbers.
 *
 * @example
 * toTaskUsage({ tokens: 10, costUsd: 0.5 }, 'usage'); // { tokens: 10, cost_usd: 0.5 }
 */
export function toTaskUsage(value: unknown, what: string): TaskUsage {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError(
      `Expected \`${what}\` to be an object, got ${value === null ? 'null' : typeof value}`,
    );
  const out: TaskUsage = {};
  for (const [key, wire] of FIELDS) {
    const n = (value as Record<string, unknown>)[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
      throw new TypeError(`Expected \`${what}.${key}\` to be a non-negative finite number, got ${String(n)}`);
    out[wire] = n;
  }
  return out;
}

/**
 * `a + b`, field by field (a field absent from both stays absent).
 *
 * @example
 * addUsage({ tokens: 1 }, { tokens: 2, tool_calls: 1 }); // { tokens: 3, tool_calls: 1 }
 */
export function addUsage(a: TaskUsage | undefined, b: TaskUsage): TaskUsage {
  const out: TaskUsage = { ...a };
  for (const [, wire] of FIELDS) {
    const n = b[wire];
    if (n !== undefined) out[wire] = (out[wire] ?? 0) + n;
  }
  return out;
}

/**
 * The first field of `usage` past its limit in `budget` (strictly greater: reaching a limit
 * exactly is within it), or `undefined`.
 *
 * @example
 * overBudget({ tokens: 101 }, { tokens: 100 }); // 'tokens'
 */
export function overBudget(
  usage: TaskUsage | undefined,
  budget: TaskUsage | undefined,
): keyof TaskUsage | undefined {
  if (usage === undefined || budget === undefined) return undefined;
  for (const [, wire] of FIELDS) {
    const limit = budget[wire];
    const used = usage[wire];
    if (limit !== undefined && used !== undefined && used > limit) return wire;
  }
  return undefined;
}
