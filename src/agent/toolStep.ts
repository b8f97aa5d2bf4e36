import { withToolLineage } from '../lineage/lineage.js';
import type { ToolLineage } from '../lineage/lineage.js';
import { errorText } from './errorText.js';
import type { Message, ToolCall, ToolCallContext, ToolDefinition } from './types.js';

/**
 * The tools of a run: the user's tools, then the plugin's tools whose names the user did not take
 * (a user's own `cancel_task` is never replaced). Names are de-duplicated, first wins.
 *
 * @example
 * mergeTools(plugin.tools, [myCancelTask]).map((t) => t.name); // ['cancel_task']
 */
export function mergeTools(
  pluginTools: readonly ToolDefinition[],
  userTools: readonly ToolDefinition[],
): ToolDefinition[] {
  const out = new Map<string, ToolDefinition>();
  for (const t of userTools) if (!out.has(t.name)) out.set(t.name, t);
  for (const t of pluginTools) if (!out.has(t.name)) out.set(t.name, t);
  return [...out.values()];
}

/**
 * Runs one tool call and returns its `{ role: 'tool', toolCallId, content }` message: `content` is
 * the compact JSON of the outcome's data, or its error text. The tool runs inside
 * `withToolLineage(lineage)`, so the tasks it spawns carry the run, call and agent ids and report
 * to the lineage's inbox. An unknown tool, invalid arguments, a throwing tool or unserializable data
 * become error texts; this function never rejects.
 *
 * @example
 * const msg = await executeToolCall(call, tools, ctx, { run_id: 'run-1', call_id: call.id });
 */
export async function executeToolCall(
  call: ToolCall,
  tools: ReadonlyMap<string, ToolDefinition>,
  ctx: ToolCallContext,
  lineage: ToolLineage,
): Promise<Message> {
  return { role: 'tool', toolCallId: call.id, content: await outcomeText(call, tools, ctx, lineage) };
}

async function outcomeText(
  call: ToolCall,
  tools: ReadonlyMap<string, ToolDefinition>,
  ctx: ToolCallContext,
  lineage: ToolLineage,
): Promise<string> {
  const tool = tools.get(call.name);
  if (tool === undefined) return `Execution failed: unknown tool '${call.name}'`;
  try {
    const invalid = tool.validate(call.args);
    if (invalid !== undefined) return `Invalid arguments: ${invalid}`;
    const outcome = await withToolLineage(lineage, () => tool.execute(call.args, ctx));
    if (!outcome.ok) return outcome.error;
    return JSON.stringify(outcome.data) ?? 'null';
  } catch (e) {
    return `Execution failed: ${errorText(e)}`;
  }
}
