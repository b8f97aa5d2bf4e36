import { v7 as uuidv7 } from 'uuid';
import type { ToolLineage } from '../lineage/lineage.js';
import type { Json } from '../wire/types.js';
import { isPendingBoundaryWake } from './messages.js';
import { interruptRun } from './interrupt.js';
import {
  ABORTED,
  abortable,
  deliveredMessages,
  isCompactionEvent,
  outcome,
  resumeMessages,
} from './loopParts.js';
import { type BackgroundTasksPluginOptions, createBackgroundTasksPlugin } from './plugin.js';
import { FinishedTasks } from './settle.js';
import { executeToolCall, mergeTools } from './toolStep.js';
import type { Message, RunAgentLoopOptions, RunOutcome, ToolCallContext } from './types.js';
import { checkUntilIdle, UntilIdle, type UntilIdleStop } from './wake.js';

/**
 * A reference agent loop with the background-tasks plugin installed:
 *
 * - `runStart` (restore + orphan detection) before the first model call, `stepEnd` after each
 *   step, `runEnd` at the end (also when the model throws).
 * - Tools: `opts.tools` plus the plugin's `cancel_task`, `send_message` and
 *   `recover_failed_messages` (a user tool of the same name wins; `recoverFailedMessages: false`
 *   leaves the last out). Each call runs inside
 *   `withToolLineage({ run_id, call_id, agent_id, inbox: opts.inbox?.sender })`.
 * - Durable messaging: at the start, the durable messages delivered into `threadId` (by the
 *   reference sink, `storeDurableMessageSink`) are appended once as user messages carrying `id`
 *   (the `message_id`) and `metadata.sender_agent_id`. Every step ends with the plugin's `stepEnd`,
 *   which dispatches what `send_message` queued — a step ended by cancellation too, so cancelling a
 *   run does not withdraw its messages. Durable routes use `durableSink`, else the ambient sink.
 * - A `{kind:'messages'}` inbox payload that is malformed fails the run with
 *   `invalid resume: …`; a `{kind:'pending_boundary_wake'}` payload is never appended.
 * - After a tool step the inbox is drained into the conversation. At a natural end (no tool
 *   calls): anything drained → another model turn (compaction events — `compaction.started`,
 *   `compaction.skipped`, `context.compacted`, `context.compaction_failed` — are consumed and do
 *   not count); else with running tasks a
 *   `subagent` run with an inbox waits on `inbox.receiver.recv(signal)`, and any other run ends
 *   `waiting` / `awaiting_tasks` (termination `natural_end`); else `done` / `natural`. Before
 *   concluding "nothing pending", a run with an inbox waits for the terminal events of the tasks
 *   it saw running (a task's status turns terminal before its event is delivered).
 * - `signal` aborted (or `cancel_task` self in Run scope) → `cancelled`, `done` / `cancelled`; by
 *   default (`abortTasks: 'cancel'`) the run's tasks are cancelled and the run id fenced (see
 *   `cancelRunForThread`) before it resolves; `abortTasks: 'spare'` leaves them running. The
 *   outcome's `interrupted` lists the tasks stopped and those left running;
 *   `maxSteps` model calls made and another needed → `max_steps`, `done` / `max_steps`.
 *
 * - `untilIdle` (needs `inbox`): instead of ending `waiting` / `awaiting_tasks`, the run waits for
 *   the next task end or message and takes a continuation turn with it: one turn per ended task,
 *   showing all of that task's events (held in the meantime, also across tool steps), or per
 *   message; bounded by `maxTurns` (first turn included), `maxIdleMs` and `signal`. Payloads it
 *   took but showed no turn are appended to the returned `messages`; `until_idle` says how many
 *   turns it took and why it stopped. See docs/wake.md.
 *
 * A sub-agent's loop should use its own `threadId`: `hasRunning` is per thread, so a sub-agent on
 * its parent's thread would count itself and its siblings as pending work.
 *
 * @example
 * const outcome = await runAgentLoop({
 *   model: scriptedModel([{ text: 'hello' }]),
 *   supervisor,
 *   threadId: 'thread-1',
 *   messages: [{ role: 'user', content: 'hi' }],
 * });
 * outcome.status; // 'done'
 */
export async function runAgentLoop(opts: RunAgentLoopOptions): Promise<RunOutcome> {
  const { supervisor, threadId, inbox } = opts;
  if (opts.abortTasks !== undefined && opts.abortTasks !== 'cancel' && opts.abortTasks !== 'spare')
    throw new TypeError(`Expected \`abortTasks\` to be 'cancel' or 'spare', got ${String(opts.abortTasks)}`);
  let wake: UntilIdle | undefined;
  if (opts.untilIdle !== undefined) {
    checkUntilIdle(opts.untilIdle);
    if (inbox === undefined)
      throw new TypeError('Expected `inbox` to be an inbox when `untilIdle` is set, got undefined');
    wake = new UntilIdle(supervisor, threadId, inbox.receiver, opts.untilIdle);
  }
  const runId = opts.runId ?? uuidv7();
  const pluginOpts: BackgroundTasksPluginOptions = {};
  if (opts.durableSink !== undefined) pluginOpts.durableSink = opts.durableSink;
  if (opts.recoverFailedMessages !== undefined) pluginOpts.recoverFailedMessages = opts.recoverFailedMessages;
  if (opts.revivable !== undefined) pluginOpts.revivable = opts.revivable;
  const plugin = createBackgroundTasksPlugin(supervisor, pluginOpts);
  const tools = mergeTools(plugin.tools, opts.tools ?? []);
  const toolsByName = new Map(tools.map((t) => [t.name, t]));
  const controller = new AbortController();
  const signal = controller.signal;
  const onAbort = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  const messages: Message[] = [...(opts.messages ?? [])];
  const firstOwn = messages.length;
  let steps = 0;
  let stoppedBy: UntilIdleStop | 'max_steps' | undefined;
  const end = (
    termination: RunOutcome['termination'],
    status: RunOutcome['status'],
    reason: RunOutcome['status_reason'],
  ) => {
    if (wake === undefined) return outcome(termination, status, reason, messages, firstOwn, steps);
    // What the run took from the inbox and no turn showed stays in the conversation it returns.
    wake.pull();
    append(wake.queue.takeAll(), false);
    const out = outcome(termination, status, reason, messages, firstOwn, steps);
    out.until_idle = { turns: wake.turns, stopped_by: stoppedBy ?? 'idle' };
    return out;
  };
  const cancelled = () => {
    // Aborting a run cancels the tasks it started (and fences the run id so a late spawn into it
    // is refused) before the run reports `cancelled`, unless `abortTasks: 'spare'`; either way the
    // outcome says which tasks were stopped and which were left running.
    const interrupted = interruptRun(supervisor, threadId, runId, opts.abortTasks ?? 'cancel');
    stoppedBy = 'cancelled';
    const out = end('cancelled', 'done', 'cancelled');
    out.interrupted = interrupted;
    return out;
  };
  // Every step is closed by `stepEnd` (which dispatches the outbox), a cancelled one too.
  let stepOpen = false;
  const stepEnd = async () => {
    stepOpen = false;
    return plugin.hooks.stepEnd(inbox === undefined ? { threadId } : { threadId, inbox: inbox.sender });
  };

  /** Appends the messages of `payloads`; returns how many payloads counted. */
  const append = (payloads: Json[], naturalEnd: boolean): number => {
    let counted = 0;
    for (const p of payloads) {
      if (naturalEnd && isCompactionEvent(p)) continue; // consumed in place (this loop keeps no summary)
      // A wake signal for the host's pending-boundary flush, never conversation input.
      if (isPendingBoundaryWake(p)) continue;
      messages.push(...resumeMessages(p));
      counted++;
    }
    return counted;
  };
  const drain = (): Json[] => inbox?.receiver.drain() ?? [];

  const baseCtx: ToolCallContext = { threadId, runId, runController: controller };
  if (opts.agentId !== undefined) baseCtx.agentId = opts.agentId;
  if (opts.parentThreadId !== undefined) baseCtx.parentThreadId = opts.parentThreadId;
  if (opts.parentRunId !== undefined) baseCtx.parentRunId = opts.parentRunId;

  /** Until idle: waits for the next wake-up and appends it; an outcome when the run stops instead. */
  const nextTurn = async (w: UntilIdle): Promise<RunOutcome | undefined> => {
    for (;;) {
      const next = await w.next(signal);
      if ('stop' in next) {
        stoppedBy = next.stop;
        if (next.stop === 'cancelled') return cancelled();
        if (next.stop === 'idle') return end('natural_end', 'done', 'natural');
        w.pull();
        const waiting = supervisor.hasRunning(threadId) || w.queue.hasReady;
        return waiting
          ? end('natural_end', 'waiting', 'awaiting_tasks')
          : end('natural_end', 'done', 'natural');
      }
      messages.push(...deliveredMessages(await supervisor.messages.takeDelivered(threadId)));
      if (append(next.payloads, true) > 0) return undefined;
      w.turns--; // nothing for the model (a wake signal, a compaction event): keep waiting
    }
  };

  let finished: FinishedTasks | undefined;
  try {
    await plugin.hooks.runStart({ threadId });
    messages.push(...deliveredMessages(await supervisor.messages.takeDelivered(threadId)));
    if (inbox !== undefined && wake === undefined) finished = new FinishedTasks(supervisor, threadId);
    if (wake !== undefined) {
      if (wake.waitFirst) {
        const stopped = await nextTurn(wake);
        if (stopped !== undefined) return stopped;
      } else wake.turns = 1;
    }
    for (;;) {
      if (signal.aborted) return cancelled();
      if (opts.maxSteps !== undefined && steps >= opts.maxSteps) {
        stoppedBy = 'max_steps';
        return end('max_steps', 'done', 'max_steps');
      }
      steps++;
      stepOpen = true;
      const res = await abortable(() => opts.model({ messages: [...messages], tools: [...tools] }), signal);
      if (res === ABORTED) return cancelled();
      const calls = Array.isArray(res.toolCalls) ? res.toolCalls : [];
      const assistant: Message = { role: 'assistant', content: typeof res.text === 'string' ? res.text : '' };
      if (calls.length > 0) assistant.toolCalls = calls;
      messages.push(assistant);

      if (calls.length > 0) {
        for (const call of calls) {
          if (signal.aborted) {
            messages.push({ role: 'tool', toolCallId: call.id, content: 'Execution failed: run cancelled' });
            continue;
          }
          const lineage: ToolLineage = { run_id: runId, call_id: call.id };
          if (opts.agentId !== undefined) lineage.agent_id = opts.agentId;
          if (inbox !== undefined) lineage.inbox = inbox.sender;
          messages.push(await executeToolCall(call, toolsByName, { ...baseCtx, callId: call.id }, lineage));
        }
        await stepEnd();
        // Until idle, what arrived waits for the next turn (a task's events all together).
        if (wake !== undefined) wake.pull();
        else append(drain(), false);
        continue;
      }

      if (wake !== undefined) {
        await stepEnd();
        const stopped = await nextTurn(wake);
        if (stopped !== undefined) return stopped;
        continue;
      }

      // Natural end. The pending check comes first and the drain second, so a task that ends in
      // between is drained here and yields another turn instead of being reported to nobody.
      let pending = (await stepEnd()).has_pending;
      for (;;) {
        // Nothing pending: wait until tasks that just ended have delivered their terminal events.
        if (!pending && finished !== undefined) await finished.settle(signal);
        if (signal.aborted) return cancelled();
        if (append(drain(), true) > 0) break;
        if (!pending) return end('natural_end', 'done', 'natural');
        if (opts.origin === 'subagent' && inbox !== undefined) {
          const first = await inbox.receiver.recv(signal);
          if (first === undefined) return cancelled();
          if (append([first, ...drain()], true) > 0) break;
          pending = supervisor.hasRunning(threadId);
          continue;
        }
        // Re-check before reporting `waiting`: a task that ended after the drain must not leave a
        // stale `awaiting_tasks`; its event gets drained (and a turn) on the next pass.
        if (supervisor.hasRunning(threadId)) return end('natural_end', 'waiting', 'awaiting_tasks');
        pending = false;
      }
    }
  } finally {
    if (stepOpen) {
      // Entries that cannot be dispatched now stay in the outbox for the thread's next step end.
      await stepEnd().catch(() => undefined);
    }
    finished?.close();
    opts.signal?.removeEventListener('abort', onAbort);
    await plugin.hooks.runEnd({ threadId });
  }
}
