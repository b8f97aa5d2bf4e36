/**
 * Argument validation of the two tools, with the Rust runtime's exact messages (a model sees the
 * same text from either).
 * Field access follows `serde_json::Value::get`: a key of a non-object (or of an array) is absent,
 * and a present `null` is a value, so `{target: null}` is `missing 'target.relation'`.
 */

import { quoteArgument } from './errorText.js';

type Obj = Record<string, unknown>;

/**
 * `serde_json`'s `value.get(key)`: the member of a plain object, else `undefined`.
 *
 * @example
 * member({ to: null }, 'to'); // null
 * member(['to'], 'to');       // undefined
 */
export function member(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, key) ? (value as Obj)[key] : undefined;
}

/**
 * `value.get(key).and_then(Value::as_str)`: the member when it is a string, else `undefined`.
 *
 * @example
 * stringMember({ relation: 5 }, 'relation'); // undefined
 */
export function stringMember(value: unknown, key: string): string | undefined {
  const v = member(value, key);
  return typeof v === 'string' ? v : undefined;
}

/**
 * The validation message of `cancel_task` arguments, or `undefined` when valid.
 *
 * @example
 * validateCancelTaskArgs({ target: { relation: 'child' } }); // "child requires 'name'"
 */
export function validateCancelTaskArgs(args: unknown): string | undefined {
  const target = member(args, 'target');
  if (target === undefined) return "missing 'target'";
  const relation = stringMember(target, 'relation');
  if (relation === undefined) return "missing 'target.relation'";
  switch (relation) {
    case 'self':
      return undefined;
    case 'child':
      return stringMember(target, 'name') === undefined ? "child requires 'name'" : undefined;
    default:
      return `unknown relation ${quoteArgument(relation)}`;
  }
}

/**
 * The validation message of `send_message` arguments, or `undefined` when valid. The `to` checks
 * run before the `message` check; `agent_id` is not type-checked (a non-string one is ignored).
 *
 * @example
 * validateSendMessageArgs({ to: { relation: 'parent' } }); // "missing 'message'"
 */
export function validateSendMessageArgs(args: unknown): string | undefined {
  const to = member(args, 'to');
  if (to === undefined) return "missing 'to'";
  const relation = stringMember(to, 'relation');
  if (relation === undefined) return "missing 'to.relation'";
  switch (relation) {
    case 'child':
      if (stringMember(to, 'name') === undefined) return "child requires 'name'";
      break;
    case 'agent':
      if (stringMember(to, 'thread_id') === undefined) return "agent requires 'thread_id'";
      break;
    case 'parent':
      break;
    default:
      return `unknown relation ${quoteArgument(relation)}`;
  }
  if (stringMember(args, 'message') === undefined) return "missing 'message'";
  return undefined;
}
