/**
 * `awaken-tasks/agent`: agent-loop integration — the background-tasks plugin, the `cancel_task`
 * and `send_message` tools (plain JSON Schema, usable with any LLM client), inbox-event → message
 * conversion, and a reference agent loop.
 *
 * @packageDocumentation
 * @module awaken-tasks/agent
 */
export { createBackgroundTasksPlugin, BACKGROUND_TASKS_PLUGIN_ID } from './plugin.js';
export { cancelTaskTool } from './cancelTask.js';
export { sendMessageTool, sendErrorToReceiptCode } from './sendMessage.js';
export {
  inboxEventToMessage,
  inboxPayloadToMessages,
  escapeXmlAttribute,
  sortedJson,
  parseMessage,
} from './messages.js';
export { runAgentLoop } from './loop.js';
export { scriptedModel } from './scriptedModel.js';
export { mergeTools, executeToolCall } from './toolStep.js';
export { validateCancelTaskArgs, validateSendMessageArgs } from './validation.js';
export {
  CANCEL_TASK_TOOL_NAME,
  CANCEL_TASK_DESCRIPTION,
  CANCEL_TASK_PARAMETERS,
  SEND_MESSAGE_TOOL_NAME,
  SEND_MESSAGE_DESCRIPTION,
  SEND_MESSAGE_PARAMETERS,
} from './schemas.js';

export type { BackgroundTasksPlugin } from './plugin.js';
export type { CancelTaskReceipt } from './cancelTask.js';
export type { SendMessageReceipt } from './sendMessage.js';
export type { ScriptedModel } from './scriptedModel.js';
export type {
  AgentModel,
  DurableMessageRequest,
  DurableMessageSink,
  JsonSchema,
  Message,
  ModelRequest,
  ModelResponse,
  RunAgentLoopOptions,
  RunOutcome,
  ToolCall,
  ToolCallContext,
  ToolDefinition,
  ToolOutcome,
} from './types.js';
