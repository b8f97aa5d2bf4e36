import { currentTaskId } from '../lineage/lineage.js';
import { InputError } from '../supervisor/input.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { Json } from '../wire/types.js';
import { clipText, errorText } from './errorText.js';
import type { JsonSchema, ToolCallContext, ToolDefinition, ToolOutcome } from './types.js';

/**
 * The name of the `answer_input` tool.
 *
 * @example
 * answerInputTool(supervisor).name === ANSWER_INPUT_TOOL_NAME; // true
 */
export const ANSWER_INPUT_TOOL_NAME = 'answer_input';

/** What the model reads about `answer_input`. */
export const ANSWER_INPUT_DESCRIPTION =
  'Answer a background task or sub-agent that is waiting for input (it reported an `input_required` ' +
  'event with its request). The task goes on with your response.';

/** The JSON Schema of `answer_input`'s arguments. */
export const ANSWER_INPUT_PARAMETERS: JsonSchema = {
  type: 'object',
  properties: {
    task_id: { type: 'string', description: 'The waiting task id (from its input_required event)' },
    response: { description: 'Your answer: any JSON value the request asks for' },
  },
  required: ['task_id', 'response'],
  additionalProperties: false,
};

/**
 * The receipt `answer_input` returns: accepted, or failed with why (no such task of this thread
 * or its task, the task is not waiting, or the request refused the answer).
 *
 * @example
 * const r: AnswerInputReceipt = { status: 'accepted', task_id: 'bg_3' };
 */
export type AnswerInputReceipt = {
  status: 'accepted' | 'failed';
  task_id: string;
  error?: 'task_not_found' | 'not_waiting' | 'invalid_response';
  message?: string;
};

function validate(args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return 'expected an object';
  const a = args as Record<string, unknown>;
  if (typeof a.task_id !== 'string') return '`task_id` must be a string';
  if (!Object.hasOwn(a, 'response')) return '`response` is required';
  return undefined;
}

/**
 * The `answer_input` tool: lets a model answer a task (typically a sub-agent) waiting in
 * `ctx.requestInput`, as `supervisor.provideInput` does. The model sees the request as the task's
 * `input_required` event. Only tasks the caller may steer are answered: those of the calling
 * thread, and the children of the task the caller runs in (any thread).
 *
 * @example
 * const tool = answerInputTool(supervisor);
 * await tool.execute({ task_id: 'bg_3', response: { approved: true } }, { threadId: 'thread-1' });
 */
export function answerInputTool(supervisor: TaskSupervisor): ToolDefinition<AnswerInputReceipt> {
  const failed = (
    taskId: string,
    error: NonNullable<AnswerInputReceipt['error']>,
    message?: string,
  ): ToolOutcome<AnswerInputReceipt> => ({
    ok: true as const,
    data: {
      status: 'failed' as const,
      task_id: clipText(taskId),
      error,
      ...(message === undefined ? {} : { message: clipText(message) }),
    },
  });

  function run(args: unknown, ctx: ToolCallContext): ToolOutcome<AnswerInputReceipt> {
    const invalid = validate(args);
    if (invalid !== undefined) return { ok: false, error: `Invalid arguments: ${invalid}` };
    const { task_id: taskId, response } = args as { task_id: string; response: Json };
    const summary = supervisor.get(taskId);
    const caller = ctx.currentTaskId ?? currentTaskId();
    const mine =
      summary !== undefined &&
      (supervisor.ownerThreadOf(taskId) === ctx.threadId ||
        (caller !== undefined && summary.parent_context?.task_id === caller));
    if (!mine) return failed(taskId, 'task_not_found');
    if (summary.phase !== 'waiting') return failed(taskId, 'not_waiting');
    try {
      if (!supervisor.provideInput(taskId, response)) return failed(taskId, 'not_waiting');
    } catch (e) {
      if (e instanceof InputError || e instanceof TypeError)
        return failed(taskId, 'invalid_response', errorText(e));
      throw e;
    }
    return { ok: true, data: { status: 'accepted', task_id: taskId } };
  }

  return {
    name: ANSWER_INPUT_TOOL_NAME,
    description: ANSWER_INPUT_DESCRIPTION,
    parameters: structuredClone(ANSWER_INPUT_PARAMETERS),
    validate,
    async execute(args, ctx) {
      try {
        return run(args, ctx ?? { threadId: '' });
      } catch (e) {
        return { ok: false, error: `Execution failed: ${errorText(e)}` };
      }
    },
  };
}
