import type { InboxSender } from '../inbox/types.js';
import type { AgentTaskContext, SpawnOptions, TaskSupervisor } from '../supervisor/types.js';
import type { TaskId, TaskSummary } from '../wire/types.js';

/**
 * The body of a revived sub-agent: its context (its inbox holds the message that revived it) and
 * the summary its previous life ended with (status, result or error).
 *
 * @example
 * const researcher: ReviveBody = async (ctx, previous) => {
 *   const msg = await ctx.inboxReceiver.recv(ctx.signal);
 *   return { earlier: previous.result ?? null, question: msg };
 * };
 */
export type ReviveBody = (ctx: AgentTaskContext, previous: TaskSummary) => unknown;

/**
 * The sub-agents a message may bring back once they finished, keyed by their spawn name (a
 * sub-agent's task type is always `sub_agent`, so its name is its kind). Opt-in: a finished
 * sub-agent whose name is not here stays finished and the message is refused.
 *
 * @example
 * const revivable: RevivableAgents = { researcher: async (ctx, previous) => ({ again: previous.result ?? null }) };
 */
export type RevivableAgents = Readonly<Record<string, ReviveBody>>;

/**
 * The revive body registered for the finished sub-agent `previous`, or `undefined`.
 *
 * @example
 * reviverFor({ researcher: body }, supervisor, summary); // body, if summary is the finished 'researcher'
 */
export function reviverFor(
  revivable: RevivableAgents | undefined,
  supervisor: TaskSupervisor,
  previous: TaskSummary,
): ReviveBody | undefined {
  if (revivable === undefined || previous.task_type !== 'sub_agent' || previous.status === 'running')
    return undefined;
  const name = supervisor.taskName(previous.task_id);
  return name !== undefined && Object.hasOwn(revivable, name) ? revivable[name] : undefined;
}

/**
 * Starts a new sub-agent in place of the finished `previous`: a new task (a new id) with the same
 * name, description and lineage (`parent_context`), whose body gets `previous`. Its events go to
 * `inbox` when given (the reviving run's), else as a spawn's would.
 *
 * @example
 * const id = await revive(supervisor, 'thread-1', previous, body);
 */
export function revive(
  supervisor: TaskSupervisor,
  threadId: string,
  previous: TaskSummary,
  body: ReviveBody,
  inbox?: InboxSender,
): Promise<TaskId> {
  const opts: Omit<SpawnOptions, 'taskType'> = {
    threadId,
    description: previous.description,
    parentContext: { ...(previous.parent_context ?? {}) },
  };
  const name = supervisor.taskName(previous.task_id);
  if (name !== undefined) opts.name = name;
  if (inbox !== undefined) opts.inbox = inbox;
  return supervisor.spawnAgent(opts, (ctx) => body(ctx, previous));
}
