import type { Attributes } from '@opentelemetry/api';
import type { TaskSummary } from '../../wire/types.js';

/** The span name of every background task, as upstream awaken names it. */
export const TASK_SPAN_NAME = 'awaken.background_task';
/** The name of a durable task's attempt span (a child of its task's span). */
export const ATTEMPT_SPAN_NAME = 'awaken.background_task.attempt';

/**
 * The attribute keys of a task span: upstream awaken's names, plus OpenTelemetry's `error.type`
 * for failures.
 *
 * @example
 * span.attributes[TASK_ATTRIBUTES.status]; // 'completed'
 */
export const TASK_ATTRIBUTES = Object.freeze({
  operation: 'awaken.operation.name',
  id: 'awaken.background_task.id',
  type: 'awaken.background_task.type',
  status: 'awaken.background_task.status',
  description: 'awaken.background_task.description',
  name: 'awaken.background_task.name',
  thread: 'awaken.thread.id',
  run: 'awaken.run.id',
  agent: 'awaken.agent.id',
  parentRunId: 'awaken.background_task.parent_run_id',
  parentTask: 'awaken.parent_task.id',
  parentToolCallId: 'awaken.background_task.parent_tool_call_id',
  parentToolCall: 'awaken.parent_tool.call_id',
  closeReason: 'awaken.background_task.close_reason',
  cancelledBy: 'awaken.background_task.cancelled_by',
  eventsDropped: 'awaken.background_task.events_dropped',
  stopReason: 'awaken.background_task.stop_reason',
  usageTokens: 'awaken.background_task.usage.tokens',
  usageCostUsd: 'awaken.background_task.usage.cost_usd',
  usageToolCalls: 'awaken.background_task.usage.tool_calls',
  attempt: 'awaken.background_task.attempt',
  errorType: 'error.type',
  errorMessage: 'error.message',
});

/** The `error.type` of a failed task. */
export const TASK_ERROR_TYPE = 'background_task_error';

/**
 * The attributes a task span starts with: identity, owner thread and lineage (run, tool call,
 * agent, parent task), each only when set.
 *
 * @example
 * startAttributes(summary, 'thread-1')['awaken.background_task.id']; // 'bg_0'
 */
export function startAttributes(summary: TaskSummary, threadId: string): Attributes {
  const a: Attributes = {
    [TASK_ATTRIBUTES.operation]: 'background_task',
    [TASK_ATTRIBUTES.id]: summary.task_id,
    [TASK_ATTRIBUTES.type]: summary.task_type,
    [TASK_ATTRIBUTES.status]: summary.status,
    [TASK_ATTRIBUTES.description]: summary.description,
  };
  if (threadId !== '') a[TASK_ATTRIBUTES.thread] = threadId;
  const pc = summary.parent_context;
  if (pc === undefined) return a;
  if (pc.run_id) {
    a[TASK_ATTRIBUTES.run] = pc.run_id;
    a[TASK_ATTRIBUTES.parentRunId] = pc.run_id;
  }
  if (pc.agent_id) a[TASK_ATTRIBUTES.agent] = pc.agent_id;
  if (pc.task_id) a[TASK_ATTRIBUTES.parentTask] = pc.task_id;
  if (pc.call_id) {
    a[TASK_ATTRIBUTES.parentToolCall] = pc.call_id;
    a[TASK_ATTRIBUTES.parentToolCallId] = pc.call_id;
  }
  return a;
}
