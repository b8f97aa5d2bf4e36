import type { ModelMessage, UIMessage, UIMessageChunk, UIMessageStreamOptions } from 'ai';
import type { RunAbortTasks, RunInterrupt } from '../../agent/interrupt.js';
import type { InboxReceiver } from '../../inbox/types.js';
import type { TaskSupervisor } from '../../supervisor/types.js';
import type { Json, TaskId } from '../../wire/types.js';
import type { ModelMessagesOptions } from './modelMessages.js';

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
  /**
   * When `abortSignal` stopped the call: what it did to the tasks (`abortTasks`), which it stopped
   * and which of the thread's tasks it left running.
   */
  interrupted?: RunInterrupt;
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
  /** Stops the current turn (passed to `stream`) and the waiting; what happens to tasks is `abortTasks`. */
  abortSignal?: AbortSignal;
  /**
   * What an abort does to the run's tasks: `'spare'` (default: they keep running, their events
   * stay for the next call — a closed browser tab does not stop the work) or `'cancel'` (the
   * tasks the run `runId` started, with their descendants, as `runAgentLoop` does by default).
   */
  abortTasks?: RunAbortTasks;
  /** The run the tools were bound to (`context.runId`): whose tasks `abortTasks: 'cancel'` cancels. */
  runId?: string;
  /** The data part name: parts are `data-<name>`. Default `'task'`. */
  dataPartName?: string;
  /** Options of `inboxEventsToModelMessages`. */
  modelMessages?: ModelMessagesOptions;
  /** Passed to each turn's `toUIMessageStream` (`sendStart`/`sendFinish` are the stream's own). */
  uiMessageStreamOptions?: Omit<UIMessageStreamOptions<UIMessage>, 'sendStart' | 'sendFinish'>;
  /** Called once the stream stopped, before it closes. */
  onFinish?: (outcome: StreamUntilIdleOutcome) => void | PromiseLike<void>;
}

/** The options with their defaults applied. */
export type Checked = Required<
  Pick<
    StreamUntilIdleOptions,
    'supervisor' | 'threadId' | 'inbox' | 'messages' | 'stream' | 'maxTurns' | 'maxIdleMs' | 'dataPartName'
  >
> &
  Pick<
    StreamUntilIdleOptions,
    'abortSignal' | 'abortTasks' | 'runId' | 'modelMessages' | 'uiMessageStreamOptions' | 'onFinish'
  >;

/** Validates `streamUntilIdle`'s options (TypeError on a bad one) and applies the defaults. */
export function checkOptions(options: StreamUntilIdleOptions): Checked {
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
  const { abortTasks, runId } = options;
  if (abortTasks !== undefined && abortTasks !== 'cancel' && abortTasks !== 'spare') {
    throw new TypeError(
      `Expected \`options.abortTasks\` to be 'cancel' or 'spare', got ${String(abortTasks)}`,
    );
  }
  if (runId !== undefined && typeof runId !== 'string') {
    throw new TypeError(`Expected \`options.runId\` to be a string, got ${typeof runId}`);
  }
  if (abortTasks === 'cancel' && runId === undefined) {
    throw new TypeError(
      "Expected `options.runId` with `abortTasks: 'cancel'` (the run whose tasks to cancel), got undefined",
    );
  }
  return { ...options, maxTurns, maxIdleMs, dataPartName };
}
