/**
 * A sub-agent's report to its parent survives the parent's process dying. Scripted models, so it
 * runs offline and the same way every time:
 *
 * 1. First life: the lead's run on thread `lead` starts a researcher sub-agent and ends `waiting`.
 *    The researcher's own run (thread `lead/researcher`, its parent thread `lead`) calls
 *    `send_message {to:{relation:'parent'}}`: the tool answers `queued` once the message is in the
 *    SQLite outbox, and the step end delivers it through the reference sink into the `lead` thread.
 *    Then the process dies before the lead ever resumes (here: it is abandoned; the example's
 *    test also SIGKILLs a real process at this point).
 * 2. Second life: a new process opens the same file. The lead's next run reads the delivered report
 *    at its start, as a user message carrying the `message_id` and the sender, and answers with it.
 *
 * Run it through its test: `npx vitest run examples/durable-report.test.ts`, or import `main`.
 */
import { runAgentLoop, scriptedModel, storeDurableMessageSink } from '../src/agent/index.js';
import type { RunOutcome, ToolDefinition } from '../src/agent/index.js';
import { createTaskSupervisor } from '../src/index.js';
import type { TaskSupervisor } from '../src/index.js';
import { SqliteTaskStore } from '../src/stores/sqlite/index.js';

const LEAD = 'lead';
const RESEARCHER = 'lead/researcher';
/** What the researcher reports. */
export const REPORT = 'Findings: sodium-ion cells are 30% cheaper per kWh than in 2023.';

/** A tool that starts the researcher sub-agent, whose body is its own agent run. */
function startResearcherTool(supervisor: TaskSupervisor, store: SqliteTaskStore): ToolDefinition {
  return {
    name: 'start_researcher',
    description: 'Start the researcher sub-agent.',
    parameters: { type: 'object', properties: {} },
    validate: () => undefined,
    async execute(_args, ctx) {
      const id = await supervisor.spawnAgent(
        { threadId: ctx.threadId, name: 'researcher', description: 'battery prices' },
        () =>
          runAgentLoop({
            model: scriptedModel([
              {
                toolCalls: [
                  { id: 'r1', name: 'send_message', args: { to: { relation: 'parent' }, message: REPORT } },
                ],
              },
              { text: 'Reported to the lead.' },
            ]),
            supervisor,
            threadId: RESEARCHER,
            agentId: 'researcher',
            parentThreadId: LEAD,
            origin: 'subagent',
            durableSink: storeDurableMessageSink(store.messages),
          }).then((outcome) => ({ response: outcome.response })),
      );
      return { ok: true, data: { task_id: id } };
    },
  };
}

/**
 * The first life: the lead starts the researcher and ends waiting; resolves once the researcher's
 * report is in the lead's thread. The caller then "dies" without resuming the lead.
 *
 * @example
 * const { lead } = await firstLife('./team.db'); // lead.status === 'waiting'
 */
export async function firstLife(file: string): Promise<{ lead: RunOutcome; researcherId: string }> {
  const store = new SqliteTaskStore(file);
  const supervisor = createTaskSupervisor({ store });
  const lead = await runAgentLoop({
    model: scriptedModel([
      { toolCalls: [{ id: 'c1', name: 'start_researcher', args: {} }] },
      { text: 'The researcher is working; I will summarize when the report arrives.' },
    ]),
    supervisor,
    threadId: LEAD,
    agentId: 'lead',
    messages: [{ role: 'user', content: 'Find out how battery prices moved.' }],
    tools: [startResearcherTool(supervisor, store)],
  });
  const researcherId = supervisor.list(LEAD)[0]!.task_id;
  await supervisor.wait(researcherId, { timeoutMs: 10_000 });
  // The process "dies" here: the supervisor is never stopped, but the file is released, as the
  // operating system releases a dead process's lock on it.
  await store.close();
  return { lead, researcherId };
}

/**
 * The second life: a fresh supervisor on the same file runs the lead again; its model sees the
 * report, delivered while the first process was alive, as a user message.
 *
 * @example
 * const run = await secondLife('./team.db'); // run.response contains the report
 */
export async function secondLife(file: string): Promise<RunOutcome> {
  const store = new SqliteTaskStore(file);
  const supervisor = createTaskSupervisor({ store });
  try {
    const model = async (req: { messages: { role: string; content: string; metadata?: object }[] }) => {
      const report = req.messages.find((m) => m.role === 'user' && m.metadata !== undefined);
      return { text: report === undefined ? 'No report yet.' : `Summary for the user: ${report.content}` };
    };
    return await runAgentLoop({ model, supervisor, threadId: LEAD, agentId: 'lead' });
  } finally {
    await supervisor.stop();
    await store.close();
  }
}

/**
 * Both lives in one process: the first supervisor is abandoned (never stopped, never resumed), as a
 * crashed process would leave it, and the second one picks the report up.
 *
 * @example
 * const { first, second } = await main('./team.db', console.log);
 */
export async function main(
  file: string,
  log: (line: string) => void = console.log,
): Promise<{ first: Awaited<ReturnType<typeof firstLife>>; second: RunOutcome }> {
  const first = await firstLife(file);
  log(`first life: lead ${first.lead.status}/${first.lead.status_reason}; researcher reported; process dies`);
  const second = await secondLife(file);
  log(`second life: ${second.response}`);
  return { first, second };
}
