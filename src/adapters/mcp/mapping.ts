import type { CallToolResult, Task } from '@modelcontextprotocol/sdk/types.js';
import type { Json, TaskSummary } from '../../wire/types.js';

/** MCP's task statuses. */
export type McpTaskStatus = Task['status'];

/**
 * The MCP status of a task: `running` is `working` (or `input_required` while the task waits for
 * the client), the terminal statuses keep their names.
 *
 * @example
 * mcpStatus('running', false); // 'working'
 */
export function mcpStatus(status: TaskSummary['status'], inputRequired: boolean): McpTaskStatus {
  if (status === 'running') return inputRequired ? 'input_required' : 'working';
  return status;
}

/** Whether a value is already a tool result (`{ content: [...] }`). */
function isCallToolResult(value: Json | undefined): value is CallToolResult & Json {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Array.isArray((value as { content?: unknown }).content)
  );
}

/**
 * What `tasks/result` answers for a terminal task: a completed task's result as a tool result (a
 * body that returned a `CallToolResult` is passed through; any other JSON becomes a text part and
 * `structuredContent` when it is an object); a failed task's error, or a cancellation, as a tool
 * result with `isError: true`.
 *
 * @example
 * toolResultOf({ status: 'failed', error: 'boom', … }); // { content: [{ type: 'text', text: 'boom' }], isError: true }
 */
export function toolResultOf(summary: TaskSummary): CallToolResult {
  if (summary.status === 'completed') {
    const result = summary.result ?? null;
    if (isCallToolResult(result)) return result;
    const text = typeof result === 'string' ? result : (JSON.stringify(result) ?? 'null');
    const out: CallToolResult = { content: [{ type: 'text', text }] };
    if (result !== null && typeof result === 'object' && !Array.isArray(result))
      out.structuredContent = result;
    return out;
  }
  if (summary.status === 'failed') {
    return { content: [{ type: 'text', text: summary.error ?? 'failed' }], isError: true };
  }
  return { content: [{ type: 'text', text: `task ${summary.task_id} was cancelled` }], isError: true };
}

/**
 * The text of a tool result's text parts (what a failed result stores as the task's error).
 *
 * @example
 * textOf({ content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }); // 'a\nb'
 */
export function textOf(result: unknown): string {
  const content = (result as { content?: unknown } | null)?.content;
  if (!Array.isArray(content)) return JSON.stringify(result) ?? 'failed';
  return content
    .map((p: { type?: unknown; text?: unknown }) =>
      p?.type === 'text' && typeof p.text === 'string' ? p.text : '',
    )
    .filter((t) => t !== '')
    .join('\n');
}
