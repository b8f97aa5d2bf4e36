/**
 * `awaken-tasks/ai-sdk`: the runtime's tools in the Vercel AI SDK (v6 and v7) — `cancel_task` and
 * `send_message` bound to a run, background tools that spawn supervised tasks, and inbox events as
 * model messages (a task's progress merged into one). Needs the optional peer `ai`.
 *
 * @example
 * import { backgroundTaskTool, createTaskTools, inboxEventsToModelMessages } from 'awaken-tasks/ai-sdk';
 * @packageDocumentation
 */
export { createTaskTools } from './taskTools.js';
export { backgroundTaskTool } from './backgroundTaskTool.js';
export { inboxEventsToModelMessages } from './modelMessages.js';
export { toAiTool } from './toAiTool.js';
export type { TaskTools, TaskToolsOptions } from './taskTools.js';
export type {
  BackgroundTaskReceipt,
  BackgroundTaskToolOptions,
  BackgroundToolContext,
} from './backgroundTaskTool.js';
export type { ModelMessagesOptions } from './modelMessages.js';
export type { AiToolOutput } from './toAiTool.js';
