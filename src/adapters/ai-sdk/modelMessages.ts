import type { ModelMessage } from 'ai';
import { escapeXmlAttribute, inboxPayloadToMessages, sortedJson } from '../../agent/messages.js';
import type { Message } from '../../agent/types.js';
import type { Json } from '../../wire/types.js';

/** What `inboxEventsToModelMessages` takes besides the events. */
export interface ModelMessagesOptions {
  /** Custom events kept per task in its merged message (the latest ones). Default 20. */
  maxEventsPerTask?: number;
}

interface Progress {
  readonly taskId: string;
  readonly lines: string[];
  omitted: number;
}

/**
 * Turns inbox events (as drained from the run's inbox) into AI SDK model messages to append before
 * the next `generateText`. All custom events of one task — its progress — become ONE user message,
 * placed where the task's first event was, listing the events in order (the latest
 * `maxEventsPerTask`, with a count of the older ones left out). A terminal event (`completed`,
 * `failed`, `cancelled`) becomes its own `<background-task-event>` message, exactly as
 * `inboxEventToMessage` writes it; a `{kind:'messages'}` payload passes its messages through.
 *
 * @example
 * const messages = [...conversation, ...inboxEventsToModelMessages(inbox.receiver.drain())];
 * // [{ role: 'user', content: '<background-task-progress task_id="bg_0" events="3">\n…' }]
 */
export function inboxEventsToModelMessages(
  events: readonly Json[],
  options: ModelMessagesOptions = {},
): ModelMessage[] {
  if (!Array.isArray(events)) {
    throw new TypeError(
      `Expected \`events\` to be an array, got ${events === null ? 'null' : typeof events}`,
    );
  }
  const max = options.maxEventsPerTask ?? 20;
  if (!Number.isInteger(max) || max < 1) {
    throw new TypeError(`Expected \`options.maxEventsPerTask\` to be a positive integer, got ${String(max)}`);
  }
  const out: Array<ModelMessage | Progress> = [];
  const progressOf = new Map<string, Progress>();
  for (const event of events) {
    const e = event as { kind?: unknown; task_id?: unknown; event_type?: unknown; payload?: Json };
    if (e !== null && typeof e === 'object' && e.kind === 'custom' && typeof e.task_id === 'string') {
      let p = progressOf.get(e.task_id);
      if (p === undefined) {
        p = { taskId: e.task_id, lines: [], omitted: 0 };
        progressOf.set(e.task_id, p);
        out.push(p);
      }
      p.lines.push(sortedJson({ event_type: String(e.event_type), payload: e.payload ?? null }));
      if (p.lines.length > max) {
        p.lines.shift();
        p.omitted++;
      }
      continue;
    }
    for (const m of inboxPayloadToMessages(event)) out.push(toModelMessage(m));
  }
  return out.map((m) => ('lines' in m ? progressMessage(m) : m));
}

function progressMessage(p: Progress): ModelMessage {
  const count = p.lines.length + p.omitted;
  const omitted = p.omitted > 0 ? `(${p.omitted} earlier events omitted)\n` : '';
  return {
    role: 'user',
    content:
      `<background-task-progress task_id="${escapeXmlAttribute(p.taskId)}" events="${count}">\n` +
      `${omitted}${p.lines.join('\n')}\n</background-task-progress>`,
  };
}

function toModelMessage(m: Message): ModelMessage {
  // A runtime `tool` message carries no AI SDK tool-call structure; the model reads it as context.
  if (m.role === 'system') return { role: 'system', content: m.content };
  if (m.role === 'assistant') return { role: 'assistant', content: m.content };
  return { role: 'user', content: m.content };
}
