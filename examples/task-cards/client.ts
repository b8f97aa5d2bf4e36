/**
 * The browser side of the task-cards example: posts the chat to `/api/chat` and renders the
 * streamed assistant message with the AI SDK's own `readUIMessageStream` — the same reconciliation
 * `useChat` runs, so a `data-task` part with a known id replaces its card's data instead of adding
 * a card. Bundled for the browser by `server.ts` (Vite).
 */
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import type { TaskCard } from '../../src/adapters/ai-sdk/index.js';

type ChatMessage = UIMessage<unknown, { task: TaskCard }>;

/** What the page exposes for its test: how it rendered, not what the server sent. */
interface PageStats {
  /** The most task cards the page held at once. */
  maxCards: number;
  /** `data-task` chunks received (each rewrote a card). */
  cardWrites: number;
  /** Messages rendered (one per stream update). */
  renders: number;
}
const stats: PageStats = { maxCards: 0, cardWrites: 0, renders: 0 };
(window as unknown as { taskCardStats: PageStats }).taskCardStats = stats;

const chat = document.getElementById('chat') as HTMLElement;
const form = document.getElementById('ask') as HTMLFormElement;
const prompt = document.getElementById('prompt') as HTMLInputElement;
const history: ChatMessage[] = [];

/** An element with text content only (nothing the model or a task wrote is parsed as HTML). */
function el(tag: string, attrs: Record<string, string>, ...children: Array<Node | string>): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function percentOf(card: TaskCard): number {
  if (card.status === 'completed') return 100;
  const payload = card.progress?.payload as { percent?: unknown } | undefined;
  return typeof payload?.percent === 'number' ? payload.percent : 0;
}

function renderCard(card: TaskCard): HTMLElement {
  const percent = percentOf(card);
  const bar = el('div', { class: 'bar' }, el('div', { class: 'fill', style: `width:${percent}%` }));
  const body: Array<Node | string> = [
    el('header', {}, el('strong', {}, card.task_type), ' ', el('span', { class: 'status' }, card.status)),
    el('p', { class: 'desc' }, card.description),
    bar,
    el('p', { class: 'percent' }, `${percent}%`),
  ];
  if (card.result !== undefined) body.push(el('pre', { class: 'result' }, JSON.stringify(card.result)));
  if (card.error !== undefined) body.push(el('pre', { class: 'error' }, card.error));
  return el('article', { class: 'card', 'data-task-id': card.task_id, 'data-status': card.status }, ...body);
}

function renderMessage(message: ChatMessage, into: HTMLElement): void {
  const parts: HTMLElement[] = [];
  const cards: HTMLElement[] = [];
  for (const part of message.parts) {
    if (part.type === 'text' && part.text !== '') parts.push(el('p', { class: 'text' }, part.text));
    else if (part.type === 'data-task') cards.push(renderCard(part.data));
  }
  into.replaceChildren(el('div', { class: 'cards' }, ...cards), ...parts);
  stats.renders++;
  stats.maxCards = Math.max(stats.maxCards, document.querySelectorAll('.card').length);
}

/** The server's SSE body as UI message chunks. */
function chunksOf(body: ReadableStream<Uint8Array>): ReadableStream<UIMessageChunk> {
  let buffer = '';
  return body
    .pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    .pipeThrough(
      new TransformStream<string, UIMessageChunk>({
        transform(text, controller) {
          buffer += text;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            for (const line of event.split('\n')) {
              if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
              const chunk = JSON.parse(line.slice(6)) as UIMessageChunk;
              if (chunk.type === 'data-task') stats.cardWrites++;
              controller.enqueue(chunk);
            }
            end = buffer.indexOf('\n\n');
          }
        },
      }),
    );
}

async function send(text: string): Promise<void> {
  document.body.dataset.state = 'streaming';
  history.push({ id: `u${history.length}`, role: 'user', parts: [{ type: 'text', text }] });
  chat.append(el('div', { class: 'user' }, text));
  const reply = el('div', { class: 'assistant' });
  chat.append(reply);
  const res = await fetch('/api/chat', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: history }),
  });
  let last: ChatMessage | undefined;
  for await (const message of readUIMessageStream<ChatMessage>({ stream: chunksOf(res.body!) })) {
    last = message;
    renderMessage(message, reply);
  }
  if (last !== undefined) history.push(last);
  document.body.dataset.state = 'done';
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void send(prompt.value);
});
document.body.dataset.state = 'ready';
