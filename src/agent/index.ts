/**
 * `awaken-tasks/agent`: agent-loop integration — the background-tasks plugin, the `cancel_task`
 * and `send_message` tools (plain JSON Schema, usable with any LLM client), inbox-event → message
 * conversion, and a reference agent loop.
 *
 * @packageDocumentation
 * @module awaken-tasks/agent
 */
export { createBackgroundTasksPlugin, BACKGROUND_TASKS_PLUGIN_ID } from './plugin.js';
export { dispatchOutbox, MAX_DURABLE_ATTEMPTS, NO_DURABLE_TRANSPORT } from './dispatch.js';
export { withDurableMessageSink, currentDurableMessageSink } from './ambientSink.js';
export { storeDurableMessageSink } from './storeSink.js';
export { recoverFailedMessagesTool } from './recoverMessages.js';
export { cancelTaskTool } from './cancelTask.js';
export { sendMessageTool } from './sendMessage.js';
export {
  answerInputTool,
  ANSWER_INPUT_DESCRIPTION,
  ANSWER_INPUT_PARAMETERS,
  ANSWER_INPUT_TOOL_NAME,
} from './answerInput.js';
export type { AnswerInputReceipt } from './answerInput.js';
export {
  inboxEventToMessage,
  inboxPayloadToMessages,
  tryInboxPayloadMessages,
  isPendingBoundaryWake,
  InboxPayloadError,
  escapeXmlAttribute,
  sortedJson,
  parseMessage,
} from './messages.js';
export { runAgentLoop } from './loop.js';
export { messageDeliveryStatus } from './deliveryStatus.js';
export { interruptRun } from './interrupt.js';
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
  RECOVER_FAILED_MESSAGES_TOOL_NAME,
  RECOVER_FAILED_MESSAGES_DESCRIPTION,
  RECOVER_FAILED_MESSAGES_PARAMETERS,
} from './schemas.js';

export type { BackgroundTasksPlugin, BackgroundTasksPluginOptions } from './plugin.js';
export type { DispatchOptions } from './dispatch.js';
export type { FailedMessageSummary, RecoverFailedMessagesResult } from './recoverMessages.js';
export type { DispatchVerdict, MessageOutboxStore } from '../stores/outbox.js';
export type {
  ChildInboxRoute,
  DeadLetter,
  DeliveredMessage,
  OutboxEntry,
  OutboxRoute,
} from '../wire/messaging.js';
export type { CancelTaskReceipt } from './cancelTask.js';
export type { SendMessageReceipt } from './sendMessage.js';
export type { ScriptedModel } from './scriptedModel.js';
export type { UntilIdleOptions, UntilIdleStop } from './wake.js';
export type { MessageDeliveryStatus } from './deliveryStatus.js';
export type { RunAbortTasks, RunInterrupt } from './interrupt.js';
export type { ReviveBody, RevivableAgents } from './revive.js';
export type { UndeliverableReason } from './recipients.js';
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
