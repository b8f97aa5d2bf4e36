/**
 * `awaken-tasks/ai-sdk`: the runtime's tools in the Vercel AI SDK (v6 and v7) — `cancel_task` and
 * `send_message` bound to a run, background tools that spawn supervised tasks, inbox events as
 * model messages (a task's progress merged into one), and `streamUntilIdle`: one UI message
 * stream with a card per task that wakes the model when a task ends. Needs the optional peer `ai`
 * (importing this entry without it throws a `DriverError` naming it).
 *
 * @example
 * import { backgroundTaskTool, createTaskTools, streamUntilIdle } from 'awaken-tasks/ai-sdk';
 * @packageDocumentation
 */
export { createTaskTools } from './taskTools.js';
export { backgroundTaskTool } from './backgroundTaskTool.js';
export { inboxEventsToModelMessages } from './modelMessages.js';
export { toAiTool } from './toAiTool.js';
export { streamUntilIdle } from './streamUntilIdle.js';
export type {
  StreamUntilIdleOptions,
  StreamUntilIdleOutcome,
  StreamUntilIdleReason,
  TurnInput,
  TurnStream,
} from './untilIdleOptions.js';
export type { TaskCard, TaskCardDataParts } from '../taskCards.js';
export type { TaskTools, TaskToolsOptions } from './taskTools.js';
export type {
  BackgroundTaskReceipt,
  BackgroundTaskToolOptions,
  BackgroundToolContext,
} from './backgroundTaskTool.js';
export type { ModelMessagesOptions } from './modelMessages.js';
export type { AiToolOutput } from './toAiTool.js';
