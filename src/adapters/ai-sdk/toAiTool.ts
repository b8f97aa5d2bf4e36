import type { JSONSchema7, Tool } from 'ai';
import type { ToolCallContext, ToolDefinition } from '../../agent/types.js';
import { type ToolLineage, withToolLineage } from '../../lineage/lineage.js';
import type { Json } from '../../wire/types.js';
import { ai } from './peer.js';

/**
 * What an adapted tool returns to the model: the tool's receipt, or `{ error }` with the tool's
 * error text (`Invalid arguments: …` / `Execution failed: …`).
 */
export type AiToolOutput = Json;

/**
 * The lineage a tool call runs in: the run, the SDK's tool-call id and the agent, plus where tasks
 * it spawns report.
 */
export function lineageOf(ctx: ToolCallContext, toolCallId: string): ToolLineage {
  const lineage: ToolLineage = { call_id: toolCallId };
  if (ctx.runId !== undefined) lineage.run_id = ctx.runId;
  if (ctx.agentId !== undefined) lineage.agent_id = ctx.agentId;
  return lineage;
}

/**
 * Wraps one of the runtime's tools (`cancelTaskTool`, `sendMessageTool`, or your own
 * `ToolDefinition`) as an AI SDK tool bound to the run's context. The SDK's tool-call id becomes the
 * call id; the tool runs inside the run's tool lineage, so tasks it spawns carry the run, call and
 * agent ids. The model receives the receipt, or `{ error }` — `execute` never throws for bad input.
 *
 * @example
 * import { cancelTaskTool } from 'awaken-tasks/agent';
 * const tools = { cancel_task: toAiTool(cancelTaskTool(supervisor), { threadId: 'chat-1', runId: 'run-1' }) };
 */
export function toAiTool(
  def: ToolDefinition,
  ctx: ToolCallContext,
  options: { inbox?: ToolLineage['inbox'] } = {},
): Tool<unknown, AiToolOutput> {
  if (def === null || typeof def !== 'object' || typeof def.execute !== 'function') {
    throw new TypeError(`Expected \`def\` to be a ToolDefinition, got ${def === null ? 'null' : typeof def}`);
  }
  checkContext(ctx);
  return ai.tool<unknown, AiToolOutput>({
    description: def.description,
    inputSchema: ai.jsonSchema<unknown>(def.parameters as JSONSchema7),
    execute: async (input, { toolCallId }) => {
      const lineage = lineageOf(ctx, toolCallId);
      if (options.inbox !== undefined) lineage.inbox = options.inbox;
      // `execute` is called by the tool's own contract only after validation, but the SDK hands us
      // whatever the model produced: the tool validates and answers with an error text.
      const out = await withToolLineage(lineage, () => def.execute(input, { ...ctx, callId: toolCallId }));
      return out.ok ? out.data : { error: out.error };
    },
  });
}

/** Throws the TypeError for a context without a thread id. */
export function checkContext(ctx: ToolCallContext): void {
  if (ctx === null || typeof ctx !== 'object') {
    throw new TypeError(`Expected \`context\` to be an object, got ${ctx === null ? 'null' : typeof ctx}`);
  }
  if (typeof ctx.threadId !== 'string') {
    throw new TypeError(`Expected \`context.threadId\` to be a string, got ${typeof ctx.threadId}`);
  }
}
