import { currentTaskId } from '../lineage/lineage.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { TaskId } from '../wire/types.js';
import { clipText, errorText } from './errorText.js';
import { cancelRunForThread, findLiveChildOfTask, findLiveTaskForCaller } from './resolve.js';
import {
  CANCEL_TASK_DESCRIPTION,
  CANCEL_TASK_PARAMETERS,
  CANCEL_TASK_TOOL_NAME,
  cloneSchema,
} from './schemas.js';
import type { ToolCallContext, ToolDefinition, ToolOutcome } from './types.js';
import { member, stringMember, validateCancelTaskArgs } from './validation.js';

/**
 * The receipt `cancel_task` returns to the model as its data: accepted with the number of tasks
 * it cancelled, or failed with the reason.
 *
 * @example
 * const r: CancelTaskReceipt = { status: 'accepted', root_task_id: 'bg_0', cancelled_count: 3 };
 */
export type CancelTaskReceipt = {
  status: 'accepted' | 'failed';
  root_task_id: string;
  cancelled_count: number;
  error?: 'task_not_found';
};

type Scope = { kind: 'task'; id: TaskId } | { kind: 'run'; id: string };

/**
 * The `cancel_task` tool, which lets a model stop background work: `{target:{relation:'self'}}` cancels the caller's task tree
 * (Task scope) or its run and the run's task trees (Run scope); `{target:{relation:'child', name}}`
 * cancels one direct child's tree. Run scope only touches the calling thread's run roots (see
 * `cancelRunForThread`). Task scope comes from `opts.taskId`, else `ctx.currentTaskId`,
 * else the ambient `currentTaskId()`; Run scope needs `ctx.runController` and a non-blank `ctx.runId`.
 *
 * Child resolution reads the supervisor's live state. In Task scope the children of the current
 * task are matched in any owner thread (the hierarchy decides, as upstream). In Run scope the
 * current run's root tasks come first, then the calling thread's root tasks from earlier runs (a
 * chat app's earlier turns; upstream looks only at the current run); another thread's tasks are
 * never candidates.
 *
 * @example
 * const tool = cancelTaskTool(supervisor);
 * await tool.execute({ target: { relation: 'self' } }, { threadId: 't', runId: 'run-1', runController: new AbortController() });
 */
export function cancelTaskTool(
  supervisor: TaskSupervisor,
  opts: { taskId?: TaskId } = {},
): ToolDefinition<CancelTaskReceipt> {
  const boundTaskId = opts.taskId;

  function scopeOf(ctx: ToolCallContext): Scope | undefined {
    const taskId = boundTaskId ?? ctx.currentTaskId ?? currentTaskId();
    if (taskId !== undefined) return { kind: 'task', id: taskId };
    if (ctx.runController !== undefined && ctx.runId !== undefined && ctx.runId.trim() !== '') {
      return { kind: 'run', id: ctx.runId };
    }
    return undefined;
  }

  async function run(args: unknown, ctx: ToolCallContext): Promise<ToolOutcome<CancelTaskReceipt>> {
    const invalid = validateCancelTaskArgs(args);
    if (invalid !== undefined) return { ok: false, error: `Invalid arguments: ${invalid}` };
    const target = member(args, 'target');
    const relation = stringMember(target, 'relation');
    const scope = scopeOf(ctx);
    if (relation === 'self') {
      if (scope === undefined) return { ok: false, error: 'Execution failed: current_task_unavailable' };
      const count =
        scope.kind === 'task'
          ? supervisor.cancelTree(scope.id)
          : cancelRunForThread(supervisor, ctx.threadId, scope.id) +
            (ctx.runController !== undefined ? 1 : 0);
      ctx.runController?.abort();
      return receipt(scope.id, count);
    }
    if (relation === 'child') {
      if (scope === undefined) return { ok: false, error: 'Execution failed: current_task_unavailable' };
      const name = stringMember(target, 'name') ?? '';
      const child =
        scope.kind === 'task'
          ? findLiveChildOfTask(supervisor, scope.id, name)
          : findLiveTaskForCaller(supervisor, {
              threadId: ctx.threadId,
              runId: scope.id,
              name,
              rootsOnly: true,
            });
      if (child === undefined) return receipt(name, 0);
      return receipt(child, supervisor.cancelTree(child));
    }
    // Unreachable after validation; kept for parity with upstream.
    return { ok: false, error: 'Invalid arguments: unknown cancellation relation' };
  }

  return {
    name: CANCEL_TASK_TOOL_NAME,
    description: CANCEL_TASK_DESCRIPTION,
    parameters: cloneSchema(CANCEL_TASK_PARAMETERS),
    validate: validateCancelTaskArgs,
    async execute(args, ctx) {
      try {
        return await run(args, ctx ?? { threadId: '' });
      } catch (e) {
        return { ok: false, error: `Execution failed: ${errorText(e)}` };
      }
    },
  };
}

function receipt(rootTaskId: string, count: number): ToolOutcome<CancelTaskReceipt> {
  const data: CancelTaskReceipt =
    count === 0
      ? // A name no task has is echoed, but never a huge one whole.
        { status: 'failed', root_task_id: clipText(rootTaskId), cancelled_count: 0, error: 'task_not_found' }
      : { status: 'accepted', root_task_id: rootTaskId, cancelled_count: count };
  return { ok: true, data };
}
