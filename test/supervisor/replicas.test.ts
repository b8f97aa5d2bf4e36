import { describe, expect, it } from 'vitest';
import { cancelTaskTool } from '../../src/agent/index.js';
import { createInbox, createTaskSupervisor, TaskResult } from '../../src/index.js';
import type { TaskChange } from '../../src/supervisor/types.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/supervisor/replicas.test.ts');

/** Two replicas in one process: each its own store (pool, epoch, lock, LISTEN) on one table. */
describe.skipIf(!pgUrl)('supervisor replica link on PostgreSQL', () => {
  const db = pgSuite();
  const { pool } = db;
  const store = (table: string, transactionPooling = false) => db.store(table, { transactionPooling });
  const table = () => db.table('link');

  it('one process: events reach the local inbox in order, terminal last, and are not kept', async () => {
    const t = table();
    const inbox = createInbox();
    const s = createTaskSupervisor({ store: store(t), ownerInbox: inbox.sender });
    const id = await s.spawn({ threadId: 'T', taskType: 'job', description: 'd' }, (ctx) => {
      for (let i = 0; i < 50; i++) ctx.emit('progress', { i });
      return { ok: true };
    });
    await s.wait(id);
    await until(() => inbox.receiver.size === 51, 5_000, 'all events delivered');
    const got = inbox.receiver.drain();
    expect(got.slice(0, 50).map((e) => (e as { payload: { i: number } }).payload.i)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(got[50]).toEqual({ kind: 'completed', task_id: id, result: { ok: true } });
    const left = await pool.query(`SELECT count(*)::int AS n FROM "${t}_events"`);
    expect(left.rows[0].n).toBe(0);
  });

  it('subscribe and wait on B report a task that ends on A', async () => {
    const t = table();
    const a = createTaskSupervisor({ store: store(t) });
    const b = createTaskSupervisor({ store: store(t) });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const id = await a.spawn({ threadId: 'T', taskType: 'job', description: 'd' }, async () => {
      await gate;
      return 7;
    });
    expect(await b.loadThread('T')).toBe(1);
    expect(b.hasRunning('T')).toBe(true);
    const changes: TaskChange[] = [];
    b.subscribe((c) => changes.push(c));
    const waited = b.wait(id);
    release();
    expect(await waited).toMatchObject({ task_id: id, status: 'completed', result: 7 });
    expect(changes.map((c) => [c.type, c.summary.status])).toEqual([['updated', 'completed']]);
    expect(b.hasRunning('T')).toBe(false);
  });

  it('the cancel_task tool on B cancels a child of the run that runs on A', async () => {
    const t = table();
    const a = createTaskSupervisor({ store: store(t) });
    const b = createTaskSupervisor({ store: store(t) });
    let aborted = false;
    const id = await a.spawn(
      {
        threadId: 'T',
        taskType: 'job',
        description: 'd',
        name: 'crawler',
        parentContext: { run_id: 'run-1' },
      },
      async (ctx) => {
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
        });
        await ctx.cancelled();
        return TaskResult.cancelled();
      },
    );
    await b.loadThread('T');
    const tool = cancelTaskTool(b);
    const out = await tool.execute(
      { target: { relation: 'child', name: 'crawler' } },
      { threadId: 'T', runId: 'run-1', runController: new AbortController() },
    );
    expect(out).toEqual({ ok: true, data: { status: 'accepted', root_task_id: id, cancelled_count: 1 } });
    await until(() => aborted, 5_000, "A's body to be aborted");
    expect((await b.wait(id)).status).toBe('cancelled');
  });

  it('behind a transaction-pooling proxy (no advisory lock, no LISTEN): control and events still arrive by polling', async () => {
    const t = table();
    const inbox = createInbox();
    const a = createTaskSupervisor({ store: store(t, true) });
    const b = createTaskSupervisor({ store: store(t, true), ownerInbox: inbox.sender });
    // C has no inbox, so it receives no events: only its poll tells it the task ended.
    const c = createTaskSupervisor({ store: store(t, true) });
    const id = await a.spawn({ threadId: 'T', taskType: 'job', description: 'd' }, async (ctx) => {
      ctx.emit('started');
      await ctx.cancelled();
      return TaskResult.cancelled();
    });
    await b.loadThread('T');
    const epochs = await pool.query(`SELECT lock_id FROM "${t}_epochs"`);
    expect(epochs.rows.map((r) => r.lock_id)).toEqual([null, null]);
    await c.loadThread('T');
    const waited = c.wait(id);
    expect(b.cancel(id)).toBe(true);
    expect((await b.wait(id)).status).toBe('cancelled');
    expect((await waited).status).toBe('cancelled');
    await until(() => inbox.receiver.size === 2, 5_000, 'both events by polling');
    expect(inbox.receiver.drain().map((e) => (e as { kind: string }).kind)).toEqual(['custom', 'cancelled']);
  });
});
