import { describe, expect, it } from 'vitest';
import { interruptRun, runAgentLoop, scriptedModel } from '../../src/agent/index.js';
import type { ModelResponse, ToolDefinition } from '../../src/agent/index.js';
import { createInbox, createTaskSupervisor, SpawnError } from '../../src/index.js';
import type { TaskSupervisor } from '../../src/index.js';
import { freshSupervisors, parked, spawnTool, waitFor } from './helpers.js';

const { fresh } = freshSupervisors();

/** A run whose first step starts two parked tasks, then blocks in its second model call until aborted. */
async function abortedRun(s: TaskSupervisor, abortTasks?: 'cancel' | 'spare') {
  const tool: ToolDefinition = spawnTool(s, parked);
  const ac = new AbortController();
  const script = scriptedModel([
    {
      toolCalls: [
        { id: 'c1', name: tool.name, args: {} },
        { id: 'c2', name: tool.name, args: {} },
      ],
    },
  ]);
  const model = (req: Parameters<typeof script>[0]): Promise<ModelResponse> =>
    script.requests.length === 0 ? script(req) : new Promise<ModelResponse>(() => {});
  const inbox = createInbox();
  const run = runAgentLoop({
    model,
    supervisor: s,
    threadId: 't',
    runId: 'run-1',
    tools: [tool],
    inbox,
    signal: ac.signal,
    ...(abortTasks === undefined ? {} : { abortTasks }),
  });
  const ofRun = () => s.list('t').filter((x) => x.parent_context?.run_id === 'run-1');
  await waitFor(() => ofRun().length === 2, 5_000, 'both tasks started');
  ac.abort();
  return run;
}

describe('interrupts that say what they do (issue 24)', () => {
  it("default 'cancel': aborting the run stops its tasks, fences the run, and the outcome lists them; an earlier run's task is left running", async () => {
    const s = fresh();
    const earlier = await s.spawn(
      { threadId: 't', taskType: 'job', description: 'earlier', parentContext: { run_id: 'run-0' } },
      parked,
    );
    const outcome = await abortedRun(s);
    const [a, b] = s
      .list('t')
      .slice(1)
      .map((x) => x.task_id);
    expect(outcome.termination).toBe('cancelled');
    expect(outcome.interrupted).toEqual({ tasks: 'cancel', stopped: [a, b], left_running: [earlier] });
    expect((await s.wait(a!, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect((await s.wait(b!, { timeoutMs: 5_000 })).status).toBe('cancelled');
    expect(s.get(earlier)?.status).toBe('running');
    const late = await s
      .spawn(
        { threadId: 't', taskType: 'job', description: 'late', parentContext: { run_id: 'run-1' } },
        parked,
      )
      .catch((e: unknown) => e);
    expect(late).toBeInstanceOf(SpawnError);
    s.cancel(earlier);
  });

  it("'spare': aborting the run leaves its tasks running (no fence) and the outcome says so", async () => {
    const s = fresh();
    const outcome = await abortedRun(s, 'spare');
    const ids = s.list('t').map((x) => x.task_id);
    expect(outcome.interrupted).toEqual({ tasks: 'spare', stopped: [], left_running: ids });
    expect(s.list('t').every((x) => x.status === 'running')).toBe(true);
    // Not fenced: the run may still spawn (a host resuming it, say).
    const more = await s.spawn(
      { threadId: 't', taskType: 'job', description: 'more', parentContext: { run_id: 'run-1' } },
      parked,
    );
    expect(s.get(more)?.status).toBe('running');
    s.cancelAll('t');
  });

  it('interruptRun reports a run with nothing running as nothing stopped, and a bad mode is a TypeError', async () => {
    const s = createTaskSupervisor();
    expect(interruptRun(s, 't', 'run-x', 'cancel')).toEqual({
      tasks: 'cancel',
      stopped: [],
      left_running: [],
    });
    await expect(
      runAgentLoop({ model: scriptedModel([]), supervisor: s, threadId: 't', abortTasks: 'kill' as never }),
    ).rejects.toThrow("Expected `abortTasks` to be 'cancel' or 'spare', got kill");
    await s.stop();
  });
});
