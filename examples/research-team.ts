/**
 * A research team on one supervisor, with scripted models so it runs offline and reproducibly:
 *
 * 1. The lead's first run (thread `team`) spawns three researcher sub-agents (`alpha`, `beta`,
 *    `gamma`) through a tool, messages `alpha` with `send_message`, and ends `waiting` /
 *    `awaiting_tasks` because its researchers are still running.
 * 2. Each researcher is a `spawnAgent` task whose body runs its own `runAgentLoop` (origin
 *    `subagent`, on its own thread, with the task's inbox). `alpha` reads the lead's note at its
 *    first natural end and takes another turn; `beta` starts two crawls and then cancels its own
 *    subtree with `cancel_task`; `gamma` searches and reports.
 * 3. The lead's second run on the same thread receives the three terminal events and ends `done`.
 *
 * Run it through its test: `npx vitest run examples/research-team.test.ts`, or import `main`.
 * The researchers start once the lead has briefed them (a gate), so the order of events, and so
 * each scripted model's script, is the same on every run.
 */
import { inboxPayloadToMessages, runAgentLoop, scriptedModel, sendMessageTool } from '../src/agent/index.js';
import type { RunOutcome, ToolDefinition } from '../src/agent/index.js';
import { TaskResult, createInbox, createTaskSupervisor } from '../src/index.js';
import type { Json, TaskSummary, TaskSupervisor } from '../src/index.js';

/**
 * What `main` observed, for its test.
 *
 * @example
 * const { run1, run2 } = await main(); // run1.status 'waiting', run2.status 'done'
 */
export interface ResearchTeamReport {
  run1: RunOutcome;
  run2: RunOutcome;
  researchers: Record<string, TaskSummary>;
  /** What each researcher's own run ended with. */
  researcherRuns: Record<string, RunOutcome>;
  /** The tasks of the team thread, of every researcher thread, as `[task_id, status]`. */
  tasks: Array<[string, string]>;
}

const TEAM = 'team';

/** A tool that takes `{name, topic}` and spawns one researcher sub-agent on the caller's thread. */
function spawnResearcherTool(
  supervisor: TaskSupervisor,
  body: (name: string, topic: string) => Parameters<TaskSupervisor['spawnAgent']>[1],
): ToolDefinition {
  return {
    name: 'spawn_researcher',
    description: 'Start a researcher sub-agent on a topic.',
    parameters: {
      type: 'object',
      properties: { name: { type: 'string' }, topic: { type: 'string' } },
      required: ['name', 'topic'],
    },
    validate: (args) => {
      const a = args as { name?: unknown; topic?: unknown } | null;
      return typeof a?.name === 'string' && typeof a.topic === 'string'
        ? undefined
        : "requires 'name' and 'topic'";
    },
    async execute(args, ctx) {
      const { name, topic } = args as { name: string; topic: string };
      // The ambient tool lineage gives the task run/call/agent ids and routes its events to the lead's inbox.
      const id = await supervisor.spawnAgent(
        { threadId: ctx.threadId, name, description: `research ${topic}` },
        body(name, topic),
      );
      return { ok: true, data: { task_id: id, name } };
    },
  };
}

/** A search tool: with `crawls > 0` it starts that many background crawls (which run until cancelled). */
function searchTool(supervisor: TaskSupervisor, crawls: number): ToolDefinition {
  return {
    name: 'search',
    description: 'Search the literature.',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
    validate: (args) =>
      typeof (args as { query?: unknown } | null)?.query === 'string' ? undefined : "missing 'query'",
    async execute(args, ctx) {
      const query = (args as { query: string }).query;
      if (crawls === 0) return { ok: true, data: { query, findings: [`${query}: 3 recent surveys`] } };
      const started: string[] = [];
      for (let i = 0; i < crawls; i++) {
        const id = await supervisor.spawn(
          { threadId: ctx.threadId, taskType: 'crawl', description: `crawl ${query} #${i}` },
          async (task) => {
            await task.cancelled();
            return TaskResult.cancelled();
          },
        );
        started.push(id);
      }
      return { ok: true, data: { query, crawls: started } };
    },
  };
}

const call = (id: string, name: string, args: Json) => ({ id, name, args });

/**
 * Runs the team; returns what happened. `log` receives one line per milestone.
 *
 * @example
 * const report = await main(() => {});
 * report.researchers.beta?.status; // 'cancelled'
 */
export async function main(log: (line: string) => void = console.log): Promise<ResearchTeamReport> {
  const supervisor = createTaskSupervisor();
  const leadInbox = createInbox();
  let brief!: () => void;
  const briefed = new Promise<void>((resolve) => {
    brief = resolve;
  });
  const researcherRuns: Record<string, RunOutcome> = {};

  const scripts: Record<string, Parameters<typeof scriptedModel>[0]> = {
    alpha: [
      { text: 'Starting on battery chemistry.' },
      { text: 'alpha report: sodium-ion cells are 30% cheaper.' },
    ],
    beta: [
      { toolCalls: [call('b1', 'search', { query: 'perovskite stability' })] },
      {
        text: 'This duplicates gamma; stopping.',
        toolCalls: [call('b2', 'cancel_task', { target: { relation: 'self' } })],
      },
    ],
    gamma: [
      { toolCalls: [call('g1', 'search', { query: 'offshore wind' })] },
      { text: 'gamma report: floating turbines reach 50% capacity factor.' },
    ],
  };

  const researcher =
    (name: string, topic: string) =>
    async (ctx: Parameters<Parameters<TaskSupervisor['spawnAgent']>[1]>[0]) => {
      await briefed;
      const out = await runAgentLoop({
        model: scriptedModel(scripts[name] ?? []),
        supervisor,
        threadId: `${TEAM}/${name}`,
        parentThreadId: TEAM,
        agentId: name,
        origin: 'subagent',
        inbox: { sender: ctx.inboxSender, receiver: ctx.inboxReceiver },
        tools: [searchTool(supervisor, name === 'beta' ? 2 : 0)],
        messages: [{ role: 'user', content: `Research ${topic}.` }],
        signal: ctx.signal,
      });
      researcherRuns[name] = out;
      log(
        `  ${name}: run ended ${out.termination} after ${out.steps} model calls — ${out.response || '(no text)'}`,
      );
      return out.termination === 'cancelled' ? TaskResult.cancelled() : { report: out.response };
    };

  const leadTools = [spawnResearcherTool(supervisor, researcher), sendMessageTool(supervisor)];
  log('lead, run 1: spawn three researchers and brief alpha');
  const run1 = await runAgentLoop({
    model: scriptedModel([
      {
        toolCalls: [
          call('c1', 'spawn_researcher', { name: 'alpha', topic: 'battery chemistry' }),
          call('c2', 'spawn_researcher', { name: 'beta', topic: 'solar materials' }),
          call('c3', 'spawn_researcher', { name: 'gamma', topic: 'wind power' }),
        ],
      },
      {
        toolCalls: [
          call('c4', 'send_message', {
            to: { relation: 'child', name: 'alpha' },
            message: 'Focus on sodium-ion.',
          }),
        ],
      },
      { text: 'Three researchers are working; I will report when they finish.' },
    ]),
    supervisor,
    threadId: TEAM,
    runId: 'run-team-1',
    agentId: 'lead',
    inbox: leadInbox,
    tools: leadTools,
    messages: [{ role: 'user', content: 'Survey clean-energy research.' }],
  });
  log(`lead, run 1 ended ${run1.status}/${run1.status_reason}: ${run1.response}`);

  brief();
  const ids = supervisor.list(TEAM).map((s) => s.task_id);
  const researchers: Record<string, TaskSummary> = {};
  for (const [i, id] of ids.entries()) {
    researchers[['alpha', 'beta', 'gamma'][i] ?? id] = await supervisor.wait(id, { timeoutMs: 10_000 });
  }
  for (const [name, s] of Object.entries(researchers)) log(`  ${name} (${s.task_id}) ended ${s.status}`);

  // The thread is resumed because its tasks reported: their events become the run's new context.
  const events = leadInbox.receiver.drain();
  log(`lead, run 2: ${events.length} task events waiting in the inbox`);
  const run2 = await runAgentLoop({
    model: scriptedModel([
      { text: 'Final report: sodium-ion batteries and floating wind look most promising.' },
    ]),
    supervisor,
    threadId: TEAM,
    runId: 'run-team-2',
    agentId: 'lead',
    inbox: leadInbox,
    tools: leadTools,
    messages: [...run1.messages, ...events.flatMap(inboxPayloadToMessages)],
  });
  log(`lead, run 2 ended ${run2.status}/${run2.status_reason}: ${run2.response}`);

  const tasks: Array<[string, string]> = [TEAM, `${TEAM}/alpha`, `${TEAM}/beta`, `${TEAM}/gamma`]
    .flatMap((t) => supervisor.list(t))
    .map((s) => [s.task_id, s.status]);
  await supervisor.stop();
  return { run1, run2, researchers, researcherRuns, tasks };
}
