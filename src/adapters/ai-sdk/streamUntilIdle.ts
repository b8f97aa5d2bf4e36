import type { ModelMessage, UIMessageChunk, UIMessageStreamOptions, UIMessage } from 'ai';
import type { InboxReceiver } from '../../inbox/types.js';
import type { TaskSupervisor } from '../../supervisor/types.js';
import type { Json, TaskId } from '../../wire/types.js';
import { type ModelMessagesOptions, inboxEventsToModelMessages } from './modelMessages.js';
import { WakeQueue } from '../../agent/wake.js';
import { ai } from './peer.js';
import { type TaskCard, TaskCardWatch } from '../taskCards.js';

/**
 * What one model turn of `streamUntilIdle` needs from `streamText(…)` or `agent.stream(…)`: its
 * UI message stream and its response messages. An AI SDK `StreamTextResult` (6 or 7) is one.
 */
export interface TurnStream {
  /**
   * The turn's UI message chunks; `streamUntilIdle` passes `sendStart`/`sendFinish` itself.
   *
   * @example
   * for await (const chunk of turn.toUIMessageStream({ sendFinish: false })) writer.write(chunk);
   */
  toUIMessageStream(options?: UIMessageStreamOptions<UIMessage>): AsyncIterable<UIMessageChunk>;
  readonly response: PromiseLike<{ messages: ModelMessage[] }>;
}

/** What `streamUntilIdle` passes to `stream` for each turn. */
export interface TurnInput {
  /** The conversation so far: your messages, earlier turns' responses, then the task events. */
  messages: ModelMessage[];
  /** 1 for the first turn, then 2, 3, … for the continuation turns. */
  turn: number;
  /** The call's `abortSignal` (one that never aborts when none was given), for `streamText({ abortSignal })`. */
  abortSignal: AbortSignal;
}

/** Why `streamUntilIdle` stopped. */
export type StreamUntilIdleReason = 'idle' | 'max_turns' | 'max_idle' | 'aborted';

/** What `streamUntilIdle` reports to `onFinish`. */
export interface StreamUntilIdleOutcome {
  reason: StreamUntilIdleReason;
  /** Model turns run (the first included). */
  turns: number;
  /** The messages appended after `options.messages`, in order: task events and model responses. */
  messages: ModelMessage[];
  /** The thread's tasks (seen by this stream) still running when it stopped. */
  running: TaskId[];
  /**
   * Events drained from the inbox that no turn showed (the stream drains it when a task ends, then
   * shows one ended task per turn): ended tasks beyond `maxTurns`, progress of tasks still
   * running. Pass them to your next call's first turn (`inboxEventsToModelMessages(unread)`);
   * events never drained stay in the inbox.
   */
  unread: Json[];
}

/** What `streamUntilIdle` takes. */
export interface StreamUntilIdleOptions {
  supervisor: TaskSupervisor;
  /** The thread whose tasks the stream shows and waits for. */
  threadId: string;
  /** The inbox this thread's tasks report to; drained into the model's messages before each turn. */
  inbox: InboxReceiver;
  /** The conversation so far as model messages (e.g. `await convertToModelMessages(uiMessages)`). */
  messages: ModelMessage[];
  /** Starts one model turn: `({ messages, abortSignal }) => streamText({ model, tools, messages, abortSignal })`. */
  stream: (input: TurnInput) => TurnStream | PromiseLike<TurnStream>;
  /** Most model turns in this call, the first included. Default 10. */
  maxTurns?: number;
  /** Longest wait for the next task end between turns, in ms. Default 300 000 (5 minutes). */
  maxIdleMs?: number;
  /** Stops the current turn (passed to `stream`) and the waiting; tasks keep running. */
  abortSignal?: AbortSignal;
  /** The data part name: parts are `data-<name>`. Default `'task'`. */
  dataPartName?: string;
  /** Options of `inboxEventsToModelMessages`. */
  modelMessages?: ModelMessagesOptions;
  /** Passed to each turn's `toUIMessageStream` (`sendStart`/`sendFinish` are the stream's own). */
  uiMessageStreamOptions?: Omit<UIMessageStreamOptions<UIMessage>, 'sendStart' | 'sendFinish'>;
  /** Called once the stream stopped, before it closes. */
  onFinish?: (outcome: StreamUntilIdleOutcome) => void | PromiseLike<void>;
}

/**
 * One AI SDK UI message stream for a chat with background tasks: runs a model turn (`stream`,
 * e.g. `streamText` or a `ToolLoopAgent`), shows each of the thread's tasks as ONE `data-task`
 * part keyed by its task id — rewritten in place on each status change and custom event, so
 * `useChat` renders one card per task — and when a task ends, starts a continuation turn with that
 * task's events (`inboxEventsToModelMessages`; one turn per ended task), until the thread is idle. Bounded by `maxTurns`,
 * `maxIdleMs` and `abortSignal`; stopping never cancels a task. Return it with
 * `createUIMessageStreamResponse({ stream })`.
 *
 * @example
 * import { convertToModelMessages, createUIMessageStreamResponse, streamText } from 'ai';
 * const stream = streamUntilIdle({
 *   supervisor, threadId: 'chat-1', inbox: inbox.receiver,
 *   messages: await convertToModelMessages(uiMessages),
 *   stream: ({ messages, abortSignal }) => streamText({ model, tools, messages, abortSignal }),
 * });
 * return createUIMessageStreamResponse({ stream });
 */
export function streamUntilIdle(options: StreamUntilIdleOptions): ReadableStream<UIMessageChunk> {
  const o = checkOptions(options);
  return ai.createUIMessageStream({
    execute: async ({ writer }) => {
      const type = `data-${o.dataPartName}` as const;
      const watch = new TaskCardWatch(o.supervisor, o.threadId, (card: TaskCard) =>
        writer.write({ type, id: card.task_id, data: card } as UIMessageChunk),
      );
      const messages = [...o.messages];
      const appended: ModelMessage[] = [];
      const held = new WakeQueue();
      let turns = 0;
      let reason: StreamUntilIdleReason;
      const abortSignal = o.abortSignal ?? new AbortController().signal;
      watch.start();
      try {
        // Turn 1 gets everything that arrived since the previous call.
        let events: Json[] = o.inbox.drain();
        watch.takeEnded();
        for (;;) {
          const injected = inboxEventsToModelMessages(events, o.modelMessages);
          messages.push(...injected);
          appended.push(...injected);
          turns++;
          const turn = await o.stream({ messages: [...messages], turn: turns, abortSignal });
          for await (const chunk of turn.toUIMessageStream({
            ...o.uiMessageStreamOptions,
            sendStart: turns === 1,
            sendFinish: false,
          }))
            writer.write(chunk);
          if (abortSignal.aborted) {
            reason = 'aborted';
            break;
          }
          const { messages: response } = await turn.response;
          messages.push(...response);
          appended.push(...response);
          if (turns >= o.maxTurns) {
            // What ended meanwhile and was not drained stays in the inbox for the next call.
            reason =
              held.hasReady || watch.takeEnded() > 0 || o.supervisor.hasRunning(o.threadId)
                ? 'max_turns'
                : 'idle';
            break;
          }
          const next = await nextUnit(o, watch, held, abortSignal);
          if ('stop' in next) {
            reason = next.stop;
            break;
          }
          events = next.events;
        }
      } finally {
        watch.stop();
      }
      await o.onFinish?.({
        reason,
        turns,
        messages: appended,
        running: watch.running(),
        unread: held.takeAll(),
      });
      writer.write({ type: 'finish' });
    },
  });
}

/**
 * The next continuation's events — one ended task's events (its progress held until its end) or
 * one message — once the thread has one; or why to stop (idle, the idle limit, the abort). The
 * inbox is drained only when a task of the thread ended or the thread is idle, so nothing is taken
 * from it that no turn will show.
 */
async function nextUnit(
  o: Checked,
  watch: TaskCardWatch,
  held: WakeQueue,
  abortSignal: AbortSignal,
): Promise<{ events: Json[] } | { stop: StreamUntilIdleReason }> {
  const deadline = Date.now() + o.maxIdleMs;
  for (;;) {
    if (watch.takeEnded() > 0) held.add(o.inbox.drain());
    const unit = held.take();
    if (unit !== undefined) return { events: unit };
    if (abortSignal.aborted) return { stop: 'aborted' };
    const left = deadline - Date.now();
    if (left <= 0) return { stop: 'max_idle' };
    if ((await wake(o, watch, abortSignal, left)) === 'idle') {
      watch.takeEnded();
      held.add(o.inbox.drain());
      const last = held.take();
      if (last !== undefined) return { events: last };
      if (!o.supervisor.hasRunning(o.threadId)) return { stop: 'idle' };
    }
  }
}

/** Resolves on the next terminal event of the thread, its idleness, the timeout or the abort. */
function wake(
  o: Checked,
  watch: TaskCardWatch,
  abortSignal: AbortSignal,
  timeoutMs: number,
): Promise<'ended' | 'idle' | 'timeout'> {
  const stop = new AbortController();
  return new Promise<'ended' | 'idle' | 'timeout'>((resolve) => {
    const offEnded = watch.onEnded(() => resolve('ended'));
    const timer = setTimeout(() => resolve('timeout'), Math.min(timeoutMs, 2_147_483_647));
    abortSignal.addEventListener('abort', () => resolve('timeout'), { once: true, signal: stop.signal });
    o.supervisor.whenIdle(o.threadId, { signal: stop.signal }).then(
      () => resolve('idle'),
      () => {},
    );
    stop.signal.addEventListener('abort', () => {
      offEnded();
      clearTimeout(timer);
    });
  }).finally(() => stop.abort());
}

type Checked = Required<
  Pick<
    StreamUntilIdleOptions,
    'supervisor' | 'threadId' | 'inbox' | 'messages' | 'stream' | 'maxTurns' | 'maxIdleMs' | 'dataPartName'
  >
> &
  Pick<StreamUntilIdleOptions, 'abortSignal' | 'modelMessages' | 'uiMessageStreamOptions' | 'onFinish'>;

function checkOptions(options: StreamUntilIdleOptions): Checked {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `Expected \`options\` to be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const { supervisor, threadId, inbox, messages, stream } = options;
  if (supervisor === null || typeof supervisor !== 'object' || typeof supervisor.subscribe !== 'function') {
    throw new TypeError(`Expected \`options.supervisor\` to be a TaskSupervisor, got ${typeof supervisor}`);
  }
  if (typeof threadId !== 'string') {
    throw new TypeError(`Expected \`options.threadId\` to be a string, got ${typeof threadId}`);
  }
  if (inbox === null || typeof inbox !== 'object' || typeof inbox.drain !== 'function') {
    throw new TypeError(`Expected \`options.inbox\` to be an InboxReceiver, got ${typeof inbox}`);
  }
  if (!Array.isArray(messages)) {
    throw new TypeError(`Expected \`options.messages\` to be an array, got ${typeof messages}`);
  }
  if (typeof stream !== 'function') {
    throw new TypeError(`Expected \`options.stream\` to be a function, got ${typeof stream}`);
  }
  const maxTurns = options.maxTurns ?? 10;
  if (!Number.isInteger(maxTurns) || maxTurns < 1) {
    throw new TypeError(`Expected \`options.maxTurns\` to be a positive integer, got ${String(maxTurns)}`);
  }
  const maxIdleMs = options.maxIdleMs ?? 300_000;
  if (typeof maxIdleMs !== 'number' || !(maxIdleMs >= 0)) {
    throw new TypeError(
      `Expected \`options.maxIdleMs\` to be a non-negative number, got ${String(maxIdleMs)}`,
    );
  }
  const dataPartName = options.dataPartName ?? 'task';
  if (typeof dataPartName !== 'string' || !/^[A-Za-z0-9_-]+$/.test(dataPartName)) {
    throw new TypeError(
      `Expected \`options.dataPartName\` to be a name of letters, digits, '-' or '_', got ${JSON.stringify(dataPartName)}`,
    );
  }
  if (options.abortSignal !== undefined && !(options.abortSignal instanceof AbortSignal)) {
    throw new TypeError(
      `Expected \`options.abortSignal\` to be an AbortSignal, got ${typeof options.abortSignal}`,
    );
  }
  return { ...options, maxTurns, maxIdleMs, dataPartName };
}
