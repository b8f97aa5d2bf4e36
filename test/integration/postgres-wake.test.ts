import { describe, expect, it } from 'vitest';
import { runAgentLoop, scriptedModel } from '../../src/agent/index.js';
import type {
  AgentModel,
  Message,
  RunOutcome,
  ToolDefinition,
  UntilIdleOptions,
} from '../../src/agent/index.js';
import { createDurableInbox, createTaskSupervisor, ORPHAN_ERROR } from '../../src/index.js';
import { eventKindsIn } from '../agent/helpers.js';
import { replicaChildren } from '../helpers/replicaChild.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/integration/postgres-wake.test.ts');

describe.skipIf(!pgUrl)('untilIdle across two PostgreSQL replicas', () => {
  const db = pgSuite();
  const { pool } = db;
  const replicas = replicaChildren('wake');

  /**
   * Replica A (a child process) runs turn 1 of run-1, whose two tasks emit `emits` events each and
   * wait; replica B (here) opens the same table with a durable inbox. `resumeOnB` runs run-1 on B
   * with `model` (waiting first) and releases A's first task once B holds the thread.
   */
  async function turnOnA(emits: [number, number]) {
    const table = db.table('wake');
    const a = await replicas.start(pgUrl!, table, { DURABLE: '1' });
    const { outcome: first, tasks } = await a.callOk<{ outcome: RunOutcome; tasks: string[] }>('turn', {
      thread: 'T',
      run: 'run-1',
      emits,
    });
    const inbox = createDurableInbox();
    const b = createTaskSupervisor({ store: db.store(table), ownerInbox: inbox.sender });
    const resumeOnB = async (model: AgentModel, untilIdle: Partial<UntilIdleOptions> = {}) => {
      const running = runAgentLoop({
        model,
        supervisor: b,
        threadId: 'T',
        runId: 'run-1',
        inbox,
        messages: first.messages,
        untilIdle: { maxTurns: 5, waitFirst: true, ...untilIdle },
      });
      await until(() => b.hasRunning('T'), 10_000, 'B to load the thread');
      await a.callOk('release', { task: tasks[0] });
      return running;
    };
    return { table, a, first, tasks: tasks as [string, string], b, resumeOnB };
  }

  it('turn 1 on A starts two tasks and ends awaiting them; B resumes the run and takes one turn per task as A’s tasks end', async () => {
    // Replica A: the first turn of run-1 starts two gated tasks and ends awaiting them.
    const { table, a, first, tasks, b, resumeOnB } = await turnOnA([2, 1]);
    expect(first).toMatchObject({ status: 'waiting', status_reason: 'awaiting_tasks' });
    const [t0, t1] = tasks;

    // Replica B resumes run-1: it waits first, and its model releases t1 during t0's turn.
    const scripted = scriptedModel([{ text: 'saw the first' }, { text: 'saw the second' }]);
    const rowStatus = async (id: string) =>
      (await pool.query(`SELECT status FROM "${table}" WHERE task_id = $1`, [id])).rows[0]?.status;
    const model = async (req: { messages: Message[]; tools: ToolDefinition[] }) => {
      if (scripted.requests.length === 0) {
        // t1 ends on A while B's first continuation turn is in progress.
        await a.callOk('release', { task: t1 });
        await until(async () => (await rowStatus(t1)) === 'completed', 10_000, 't1 completed on A');
      }
      return scripted(req);
    };
    const outcome = await resumeOnB(model);

    expect(outcome.until_idle).toEqual({ turns: 2, stopped_by: 'idle' });
    expect(outcome).toMatchObject({ status: 'done', status_reason: 'natural', response: 'saw the second' });
    const [r1, r2] = scripted.requests as [{ messages: Message[] }, { messages: Message[] }];
    expect(eventKindsIn(r1.messages.slice(first.messages.length))).toEqual([
      ['custom', t0],
      ['custom', t0],
      ['completed', t0],
    ]);
    expect(eventKindsIn(r2.messages.slice(r1.messages.length + 1))).toEqual([
      ['custom', t1],
      ['completed', t1],
    ]);
    // The tasks ran on A, under run-1 (lineage intact across the replicas), and B held them remotely.
    expect(b.get(t0)?.parent_context?.run_id).toBe('run-1');
    expect(b.get(t1)?.parent_context?.call_id).toBe('a1');
    expect(await rowStatus(t0)).toBe('completed');
    await b.stop();
  }, 90_000);

  it('A is SIGKILLed while B waits: B’s periodic reload orphans A’s task and the failure wakes one more turn', async () => {
    const { a, first, tasks, b, resumeOnB } = await turnOnA([1, 0]);
    const [t0, t1] = tasks;
    const scripted = scriptedModel([{ text: 'saw t0' }, { text: 'saw t1 fail' }]);
    const model = async (req: { messages: Message[]; tools: ToolDefinition[] }) => {
      // During t0's turn, A dies with t1 still running.
      if (scripted.requests.length === 0) {
        a.child.proc.kill('SIGKILL');
        await a.child.closed.catch(() => undefined);
      }
      return scripted(req);
    };
    const outcome = await resumeOnB(model, { reloadMs: 200 });
    expect(outcome.until_idle).toEqual({ turns: 2, stopped_by: 'idle' });
    const [r1, r2] = scripted.requests as [{ messages: Message[] }, { messages: Message[] }];
    expect(eventKindsIn(r1.messages.slice(first.messages.length))).toEqual([
      ['custom', t0],
      ['completed', t0],
    ]);
    const added = r2.messages.slice(r1.messages.length + 1);
    expect(eventKindsIn(added)).toEqual([['failed', t1]]);
    expect(added.at(-1)!.content).toContain(ORPHAN_ERROR);
    await b.stop();
  }, 90_000);
});
