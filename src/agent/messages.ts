import type { Json } from '../wire/types.js';
import type { Message, ToolCall } from './types.js';
import { member } from './validation.js';

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/**
 * Escapes a value for an XML attribute, so a task id or kind cannot inject markup.
 *
 * @example
 * escapeXmlAttribute('a"><x'); // 'a&quot;&gt;&lt;x'
 */
export function escapeXmlAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

/**
 * Compact JSON with object keys sorted alphabetically at every depth (what upstream's
 * `serde_json::Value` renders). `<` and `>` inside strings are written `\u003c` / `\u003e`, which
 * parses to the same value but cannot close the surrounding `<background-task-event>` tag.
 *
 * @example
 * sortedJson({ b: 1, a: { d: 2, c: 3 } }); // '{"a":{"c":3,"d":2},"b":1}'
 */
export function sortedJson(value: Json): string {
  return (JSON.stringify(sortKeys(value)) ?? 'null').replace(/[<>]/g, (c) =>
    c === '<' ? '\\u003c' : '\\u003e',
  );
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(value).sort()) {
    const v = value[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

/**
 * One internal user message describing an inbox event, in the Rust runtime's format:
 * `<background-task-event kind="…" task_id="…">\n{compact JSON, keys sorted}\n</background-task-event>`.
 * `kind` defaults to `event` and `task_id` to `unknown` when absent or not a string.
 *
 * @example
 * inboxEventToMessage({ kind: 'cancelled', task_id: 'bg_0' }).content;
 * // '<background-task-event kind="cancelled" task_id="bg_0">\n{"kind":"cancelled","task_id":"bg_0"}\n</background-task-event>'
 */
export function inboxEventToMessage(payload: Json): Message {
  const kind = member(payload, 'kind');
  const taskId = member(payload, 'task_id');
  const k = escapeXmlAttribute(typeof kind === 'string' ? kind : 'event');
  const t = escapeXmlAttribute(typeof taskId === 'string' ? taskId : 'unknown');
  return {
    role: 'user',
    visibility: 'internal',
    content: `<background-task-event kind="${k}" task_id="${t}">\n${sortedJson(payload)}\n</background-task-event>`,
  };
}

/**
 * Why an inbox payload is not a valid direct-messages payload (`tryInboxPayloadMessages`).
 *
 * @example
 * try { tryInboxPayloadMessages(p); } catch (e) { if (e instanceof InboxPayloadError) e.index; }
 */
export class InboxPayloadError extends Error {
  override readonly name = 'InboxPayloadError';
  /** `invalid_message` (with `index`) or `missing_messages`. */
  readonly code: 'invalid_message' | 'missing_messages';
  /** The index of the first invalid message, for `invalid_message`. */
  readonly index: number | undefined;

  constructor(code: 'invalid_message' | 'missing_messages', message: string, index?: number) {
    super(message);
    this.code = code;
    this.index = index;
  }
}

/**
 * The messages of a `{kind:'messages', messages:[…]}` payload, strictly: all of them (visibility
 * default `all`; an empty array gives none), or an `InboxPayloadError` — `inbox messages payload is
 * missing a messages array`, or `invalid inbox message at index <i>: <reason>` for the first item
 * that is not a message. Any other payload kind gives `undefined` (it is an event, not messages).
 *
 * @example
 * tryInboxPayloadMessages({ kind: 'messages', messages: [{ role: 'user', content: 'hi' }] });
 * // [{ role: 'user', content: 'hi', visibility: 'all' }]
 */
export function tryInboxPayloadMessages(payload: Json): Message[] | undefined {
  if (member(payload, 'kind') !== 'messages') return undefined;
  const messages = member(payload, 'messages');
  if (!Array.isArray(messages)) {
    throw new InboxPayloadError('missing_messages', 'inbox messages payload is missing a messages array');
  }
  return messages.map((m, i) => {
    const msg = parseMessage(m);
    if (msg === undefined) {
      throw new InboxPayloadError(
        'invalid_message',
        `invalid inbox message at index ${i}: expected a role (system, user, assistant, tool) and a text content`,
        i,
      );
    }
    return msg;
  });
}

/**
 * Whether a payload is the `{kind:'pending_boundary_wake'}` signal: it wakes the host to flush a
 * pending boundary and is never appended to the conversation.
 *
 * @example
 * isPendingBoundaryWake({ kind: 'pending_boundary_wake' }); // true
 */
export function isPendingBoundaryWake(payload: Json): boolean {
  return member(payload, 'kind') === 'pending_boundary_wake';
}

/**
 * The messages an inbox payload becomes, leniently: a valid `{kind:'messages'}` payload gives all
 * of its messages (an empty array gives none); any other payload, or a malformed messages payload,
 * becomes one `inboxEventToMessage`.
 *
 * @example
 * inboxPayloadToMessages({ kind: 'messages', messages: [{ role: 'user', content: 'live steering' }] });
 * // [{ role: 'user', content: 'live steering', visibility: 'all' }]
 */
export function inboxPayloadToMessages(payload: Json): Message[] {
  try {
    const messages = tryInboxPayloadMessages(payload);
    if (messages !== undefined) return messages;
  } catch (e) {
    if (!(e instanceof InboxPayloadError)) throw e;
  }
  return [inboxEventToMessage(payload)];
}

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

/**
 * A `Message` from JSON, or `undefined` when it is not one. `content` may be a string or an array
 * of `{type:'text', text}` parts (joined), as some clients write it; `visibility` defaults to `all`.
 *
 * @example
 * parseMessage({ role: 'user', content: [{ type: 'text', text: 'hi' }] }); // { role: 'user', content: 'hi', visibility: 'all' }
 */
export function parseMessage(value: unknown): Message | undefined {
  const role = member(value, 'role');
  if (typeof role !== 'string' || !ROLES.has(role)) return undefined;
  const content = parseContent(member(value, 'content'));
  if (content === undefined) return undefined;
  const visibility = member(value, 'visibility');
  const msg: Message = {
    role: role as Message['role'],
    content,
    visibility: visibility === 'internal' ? 'internal' : 'all',
  };
  const toolCallId = member(value, 'toolCallId') ?? member(value, 'tool_call_id');
  if (typeof toolCallId === 'string') msg.toolCallId = toolCallId;
  const calls = member(value, 'toolCalls') ?? member(value, 'tool_calls');
  if (Array.isArray(calls)) {
    const toolCalls = calls.map(parseToolCall).filter((c): c is ToolCall => c !== undefined);
    if (toolCalls.length > 0) msg.toolCalls = toolCalls;
  }
  return msg;
}

function parseContent(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const parts: string[] = [];
  for (const part of content) {
    const text = member(part, 'text');
    if (typeof text !== 'string') return undefined;
    parts.push(text);
  }
  return parts.join('');
}

function parseToolCall(value: unknown): ToolCall | undefined {
  const id = member(value, 'id');
  const name = member(value, 'name');
  if (typeof id !== 'string' || typeof name !== 'string') return undefined;
  const args = member(value, 'args') ?? member(value, 'arguments') ?? null;
  return { id, name, args: args as Json };
}
