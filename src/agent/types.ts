import type { InboxReceiver, InboxSender } from '../inbox/types.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { DurableMessageRequest } from '../wire/messaging.js';
import type { Json, TaskId } from '../wire/types.js';
import type { RunAbortTasks, RunInterrupt } from './interrupt.js';
import type { RevivableAgents } from './revive.js';
import type { UntilIdleOptions, UntilIdleStop } from './wake.js';

export type { DurableMessageRequest } from '../wire/messaging.js';

/**
 * A JSON Schema document, as plain JSON, so any LLM client can take it.
 *
 * @example
 * const schema: JsonSchema = { type: 'object', properties: { q: { type: 'string' } } };
 */
export type JsonSchema = { [key: string]: Json };

/**
 * A tool call the model asked for.
 *
 * @example
 * const call: ToolCall = { id: 'call-1', name: 'cancel_task', args: { target: { relation: 'self' } } };
 */
export interface ToolCall {
  id: string;
  name: string;
  args: Json;
}

/**
 * One conversation message. `visibility: 'internal'` marks runtime-injected context (task events).
 *
 * @example
 * const m: Message = { role: 'user', content: 'hello' };
 */
export interface Message {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  visibility?: 'all' | 'internal';
  toolCalls?: ToolCall[];
  toolCallId?: string;
  /** A durable message's `message_id`, on the user message it became in the recipient thread. */
  id?: string;
  /** For a delivered durable message: `{ sender_agent_id }`. */
  metadata?: { [key: string]: Json };
}

/**
 * What a tool returns: `data` on success (typed `D` — e.g. `CancelTaskReceipt` for `cancel_task`),
 * or an error text `Invalid arguments: …` / `Execution failed: …`.
 *
 * @example
 * const out: ToolOutcome = { ok: false, error: 'Execution failed: current_task_unavailable' };
 */
export type ToolOutcome<D extends Json = Json> = { ok: true; data: D } | { ok: false; error: string };

/**
 * Who is calling a tool: the run's identity, and its cancellation.
 *
 * @example
 * const ctx: ToolCallContext = { threadId: 'thread-1', runId: 'run-1', runController: new AbortController() };
 */
export interface ToolCallContext {
  threadId: string;
  runId?: string;
  callId?: string;
  agentId?: string;
  parentThreadId?: string;
  parentRunId?: string;
  /** The calling run's cancellation: aborting it cancels the run. */
  runController?: AbortController;
  /** The task the caller runs in; else the ambient `currentTaskId()`. */
  currentTaskId?: TaskId;
}

/**
 * A tool any LLM client can use: a name, a description, a JSON Schema, and a
 * validate/execute pair that never throws for bad input.
 *
 * @example
 * const outcome = await tool.execute({ target: { relation: 'self' } }, { threadId: 'thread-1' });
 */
export interface ToolDefinition<D extends Json = Json> {
  name: string;
  description: string;
  parameters: JsonSchema;
  /**
   * The validation message for `args`, or `undefined` when they are valid.
   *
   * @example
   * const problem = tool.validate({ target: 'nope' });
   * if (problem) console.log(problem); // the message the model would get
   */
  validate(args: unknown): string | undefined;
  /**
   * Runs the tool with the model's arguments; bad arguments are an error outcome, never a throw. Its receipt is typed `D`.
   *
   * @example
   * const outcome = await tool.execute(args, { threadId: 'thread-1' });
   * if (!outcome.ok) console.log(outcome.error); // the text the model gets back
   */
  execute(args: unknown, ctx: ToolCallContext): Promise<ToolOutcome<D>>;
}

/**
 * Where the dispatcher delivers durable messages (the parent and agent routes of `send_message`);
 * resolves with a dispatch id, rejects when the delivery failed (the entry is retried at the next
 * step end, up to 5 attempts). A sink MUST be idempotent on `req.message_id`: after a crash
 * between a delivery and the outbox update the same message is delivered again, and the recipient
 * must see it once (return the first delivery's dispatch id).
 *
 * @example
 * const sink: DurableMessageSink = { async sendAgentMessage(req) { return mailbox.putOnce(req.message_id, req); } };
 */
export interface DurableMessageSink {
  /**
   * Stores the message durably and resolves with its id once stored.
   *
   * @example
   * const dispatchId = await sink.sendAgentMessage(request);
   */
  sendAgentMessage(req: DurableMessageRequest): Promise<string>;
}

/**
 * What the model is asked with.
 *
 * @example
 * const req: ModelRequest = { messages: [{ role: 'user', content: 'hi' }], tools: [] };
 */
export interface ModelRequest {
  messages: Message[];
  tools: ToolDefinition[];
}

/**
 * What the model answers: text, tool calls, or both.
 *
 * @example
 * const res: ModelResponse = { text: 'done' };
 */
export interface ModelResponse {
  text?: string;
  toolCalls?: ToolCall[];
}

/**
 * A language model, as `runAgentLoop` calls it. Wrap any client in one of these.
 *
 * @example
 * const model: AgentModel = async () => ({ text: 'hello' });
 */
export type AgentModel = (req: ModelRequest) => Promise<ModelResponse>;

/**
 * The options of `runAgentLoop`.
 *
 * @example
 * const opts: RunAgentLoopOptions = { model, supervisor, threadId: 'thread-1' };
 */
export interface RunAgentLoopOptions {
  model: AgentModel;
  supervisor: TaskSupervisor;
  threadId: string;
  /** Default: a fresh UUIDv7, so tasks spawned by this run carry a `run_id`. */
  runId?: string;
  agentId?: string;
  tools?: ToolDefinition[];
  /** The conversation so far; the loop copies it and adds no system prompt. */
  messages?: Message[];
  /** Task events reach the run here; tasks its tools spawn report to `inbox.sender`. */
  inbox?: { sender: InboxSender; receiver: InboxReceiver };
  origin?: 'user' | 'subagent';
  signal?: AbortSignal;
  maxSteps?: number;
  /** Extension: the parent's thread, for `send_message` `{relation:'parent'}`. */
  parentThreadId?: string;
  /** Extension: the parent's run id, passed to tools. */
  parentRunId?: string;
  /** Where durable messages go; else the ambient sink (`withDurableMessageSink`), else none (dead letters). */
  durableSink?: DurableMessageSink;
  /** `false` leaves out the `recover_failed_messages` tool. Default `true`. */
  recoverFailedMessages?: boolean;
  /**
   * Continue until the thread is idle: instead of ending `waiting` / `awaiting_tasks`, the run
   * waits for the next task end (or message) in `inbox` and takes another turn with it, bounded
   * by `maxTurns`, `maxIdleMs` and `signal`. Each turn sees the events of exactly one ended task
   * (all of them, custom then terminal) or one message. Requires `inbox`. See docs/wake.md.
   */
  untilIdle?: UntilIdleOptions;
  /**
   * Sub-agents that `send_message` brings back once they finished, by spawn name (opt-in): a new
   * sub-agent of that name starts with the message, its body given the previous one's final
   * summary. See docs/wake.md.
   */
  revivable?: RevivableAgents;
  /**
   * What aborting the run (`signal`, or `cancel_task` self) does to the tasks it started:
   * `'cancel'` (default) cancels them with their descendants and fences the run id; `'spare'`
   * leaves them running. The outcome's `interrupted` says which were stopped and which left running.
   */
  abortTasks?: RunAbortTasks;
}

/**
 * How a run ended. `waiting`/`awaiting_tasks` means background tasks are still running and the
 * thread should be resumed when they report.
 *
 * @example
 * if (outcome.status === 'waiting') scheduleResume(threadId);
 */
export interface RunOutcome {
  termination: 'natural_end' | 'cancelled' | 'max_steps';
  status: 'done' | 'waiting';
  status_reason?: 'natural' | 'awaiting_tasks' | 'cancelled' | 'max_steps';
  response: string;
  messages: Message[];
  steps: number;
  /**
   * With `untilIdle`: how many turns the run took (its first included) and why it stopped taking
   * more — `idle` (nothing left), `max_turns`, `max_idle`, `cancelled` or `max_steps`. Events it
   * took from the inbox that no turn showed are at the end of `messages`.
   */
  until_idle?: { turns: number; stopped_by: UntilIdleStop | 'max_steps' };
  /** On a cancelled run: the `abortTasks` mode, the tasks it stopped and the thread's tasks left running. */
  interrupted?: RunInterrupt;
}
