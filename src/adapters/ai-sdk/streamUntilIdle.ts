import type { ModelMessage, UIMessageChunk } from 'ai';
import { interruptRun } from '../../agent/interrupt.js';
import { WakeQueue } from '../../agent/wake.js';
import type { TaskSupervisor } from '../../supervisor/types.js';
import type { Json, TaskId } from '../../wire/types.js';
import { type TaskCard, TaskCardWatch } from '../taskCards.js';
import { inboxEventsToModelMessages } from './modelMessages.js';
import { ai } from './peer.js';
import {
  type Checked,
  checkOptions,
  type StreamUntilIdleOptions,
  type StreamUntilIdleOutcome,
  type StreamUntilIdleReason,
} from './untilIdleOptions.js';

/**
 * One AI SDK UI message stream for a chat with background tasks: runs a model turn (`stream`,
 * e.g. `streamText` or a `ToolLoopAgent`), shows each of the thread's tasks as ONE `data-task`
 * part keyed by its task id — rewritten in place on each status change and custom event, so
 * `useChat` renders one card per task — and when a task ends, starts a continuation turn with that
 * task's events (`inboxEventsToModelMessages`; one turn per ended task), until the thread is
 * idle. Bounded by `maxTurns`, `maxIdleMs` and `abortSignal` (cancelling the returned stream —
 * the client went away — counts as an abort); tasks are cancelled only by an abort with
 * `abortTasks: 'cancel'`. Return it with `createUIMessageStreamResponse({ stream })`.
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
  // Aborted by the caller's signal, or by the reader cancelling the stream (a closed connection).
  const stopped = new AbortController();
  const abortSignal = stopped.signal;
  if (o.abortSignal?.aborted) stopped.abort(o.abortSignal.reason);
  else o.abortSignal?.addEventListener('abort', () => stopped.abort(o.abortSignal?.reason), { once: true });
  const inner = ai.createUIMessageStream({
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
      const outcome: StreamUntilIdleOutcome = {
        reason,
        turns,
        messages: appended,
        running: watch.running(),
        unread: held.takeAll(),
      };
      if (reason === 'aborted') {
        const interrupted =
          o.runId === undefined
            ? { tasks: 'spare' as const, stopped: [], left_running: runningOf(o.supervisor, o.threadId) }
            : interruptRun(o.supervisor, o.threadId, o.runId, o.abortTasks ?? 'spare');
        outcome.interrupted = interrupted;
        outcome.running = outcome.running.filter((id) => interrupted.left_running.includes(id));
      }
      await o.onFinish?.(outcome);
      writer.write({ type: 'finish' });
    },
  });
  const reader = inner.getReader();
  return new ReadableStream<UIMessageChunk>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      stopped.abort(reason);
      // The rest of the inner stream (the finish chunk) has no reader: drain it.
      void (async () => {
        while (!(await reader.read()).done) {}
      })().catch(() => {});
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

function runningOf(supervisor: TaskSupervisor, threadId: string): TaskId[] {
  return supervisor
    .list(threadId)
    .filter((s) => s.status === 'running')
    .map((s) => s.task_id);
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
