import type { FlexibleSchema, Tool } from 'ai';
import { errorText } from '../../agent/errorText.js';
import type { ToolCallContext } from '../../agent/types.js';
import type { InboxSender } from '../../inbox/types.js';
import { withToolLineage } from '../../lineage/lineage.js';
import type { TaskContext, TaskSupervisor } from '../../supervisor/types.js';
import type { TaskId } from '../../wire/types.js';
import { ai } from './peer.js';
import { checkContext, lineageOf } from './toAiTool.js';

/**
 * What a background tool answers the model at once: the task it started, and a sentence the model
 * can quote to the user; or `{ error }` when the task could not be started.
 *
 * @example
 * const r: BackgroundTaskReceipt = { status: 'started', task_id: 'bg_0', name: 'crawl', message: '…' };
 */
export type BackgroundTaskReceipt =
  | { status: 'started'; task_id: TaskId; name: string; message: string }
  | { error: string };

/** What the body of a background tool gets: the task's context and the SDK's tool-call id. */
export type BackgroundToolContext = TaskContext & { readonly toolCallId: string };

/** What `backgroundTaskTool` takes. */
export interface BackgroundTaskToolOptions<INPUT> {
  supervisor: TaskSupervisor;
  /** The run the tool is offered in: `threadId` owns the task; `runId`/`agentId` become its lineage. */
  context: ToolCallContext;
  /** The tool's name; also the task's name unless `taskName` says otherwise, and its `task_type`. */
  name: string;
  description: string;
  /** Any schema the AI SDK takes: `jsonSchema(…)`, a zod schema, … */
  inputSchema: FlexibleSchema<INPUT>;
  /** The work, run as the task's body; its return value is the task's result. */
  run: (input: INPUT, ctx: BackgroundToolContext) => unknown;
  /** Give each task this name (an address for `send_message`/`cancel_task`); default: none. */
  taskName?: (input: INPUT) => string | undefined;
  /** The task's description; default: the tool's name and its input. */
  taskDescription?: (input: INPUT) => string;
  /** Where the task reports; default: the spawn's ambient inbox or the supervisor's owner inbox. */
  inbox?: InboxSender;
}

/**
 * An AI SDK tool that starts `run` as a background task and answers at once with a receipt. The
 * task is spawned inside the tool call's lineage (`run_id`, `call_id` = the SDK's tool-call id,
 * `agent_id`), so `cancel_task` in the same run finds it, and its progress (`ctx.emit`) and result
 * reach the inbox as task events. The tool call never waits for the work; a refused spawn becomes
 * `{ error }` for the model, never a throw.
 *
 * @example
 * import { jsonSchema } from 'ai';
 * const crawl = backgroundTaskTool({
 *   supervisor, context: { threadId: 'chat-1', runId: 'run-1' },
 *   name: 'crawl', description: 'Crawl a site in the background',
 *   inputSchema: jsonSchema<{ url: string }>({ type: 'object', properties: { url: { type: 'string' } }, required: ['url'] }),
 *   run: async ({ url }, ctx) => { ctx.emit('progress', { url, pages: 1 }); return { pages: 1 }; },
 * });
 */
export function backgroundTaskTool<INPUT>(
  options: BackgroundTaskToolOptions<INPUT>,
): Tool<INPUT, BackgroundTaskReceipt> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `Expected \`options\` to be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const { supervisor, context, name, description, run } = options;
  if (supervisor === null || typeof supervisor !== 'object' || typeof supervisor.spawn !== 'function') {
    throw new TypeError(`Expected \`options.supervisor\` to be a TaskSupervisor, got ${typeof supervisor}`);
  }
  checkContext(context);
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`Expected \`options.name\` to be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (typeof description !== 'string') {
    throw new TypeError(`Expected \`options.description\` to be a string, got ${typeof description}`);
  }
  if (typeof run !== 'function') {
    throw new TypeError(`Expected \`options.run\` to be a function, got ${typeof run}`);
  }
  return ai.tool<INPUT, BackgroundTaskReceipt>({
    description,
    inputSchema: options.inputSchema,
    execute: async (input, { toolCallId }) => {
      const lineage = lineageOf(context, toolCallId);
      if (options.inbox !== undefined) lineage.inbox = options.inbox;
      const taskName = options.taskName?.(input);
      try {
        const taskId = await withToolLineage(lineage, () =>
          supervisor.spawn(
            {
              threadId: context.threadId,
              taskType: name,
              description:
                options.taskDescription?.(input) ?? `${name} ${JSON.stringify(input) ?? ''}`.trim(),
              ...(taskName === undefined ? {} : { name: taskName }),
            },
            (ctx) => run(input, withCallId(ctx, toolCallId)),
          ),
        );
        const handle = taskName ?? taskId;
        return {
          status: 'started',
          task_id: taskId,
          name,
          message:
            `Started background task ${taskId} (${name}). It runs on after this reply; its progress and ` +
            `result arrive later as background-task events. To stop it, call cancel_task with ` +
            `{"target":{"relation":"child","name":"${handle}"}}.`,
        };
      } catch (e) {
        return { error: `Execution failed: ${errorText(e)}` };
      }
    },
  });
}

/** The task's context plus the tool-call id (a wrapper: the context's methods use private state). */
function withCallId(ctx: TaskContext, toolCallId: string): BackgroundToolContext {
  return {
    taskId: ctx.taskId,
    signal: ctx.signal,
    inbox: ctx.inbox,
    toolCallId,
    emit: (eventType, payload) => ctx.emit(eventType, payload),
    cancelled: () => ctx.cancelled(),
    isCancelled: () => ctx.isCancelled(),
    requestInput: (request, options) => ctx.requestInput(request, options),
    reportUsage: (usage) => ctx.reportUsage(usage),
  };
}
