import { describe, expect, it } from 'vitest';
import { createDurableInbox, createTaskSupervisor } from '../../src/index.js';
import type { ThreadIdleEvent } from '../../src/index.js';
import { isSettled } from '../helpers/async.js';
import { pgSuite, pgUrl, requirePostgres } from '../stores/pgEnv.js';

requirePostgres('test/supervisor/idleReplicas.test.ts');

/** Two replicas in one process, each its own store on one table: the thread is idle on B when A's tasks end. */
describe.skipIf(!pgUrl)('whenIdle across PostgreSQL replicas', () => {
  const { table, store } = pgSuite();

  it('B, which loaded the thread, becomes idle after both of A’s tasks end, with their events already in its inbox', async () => {
    const t = table('idle');
    const a = createTaskSupervisor({ store: store(t) });
    const inbox = createDurableInbox();
    const b = createTaskSupervisor({ store: store(t), ownerInbox: inbox.sender });
    let release1!: () => void;
    let release2!: () => void;
    const g1 = new Promise<void>((r) => {
      release1 = r;
    });
    const g2 = new Promise<void>((r) => {
      release2 = r;
    });
    const one = await a.spawn({ threadId: 'T', taskType: 'job', description: '1' }, async (ctx) => {
      ctx.emit('progress', { n: 1 });
      await g1;
      return 1;
    });
    const two = await a.spawn({ threadId: 'T', taskType: 'job', description: '2' }, async () => {
      await g2;
      return 2;
    });
    expect(await b.loadThread('T')).toBe(2);
    const events: ThreadIdleEvent[] = [];
    b.onIdle((e) => events.push(e), { threadId: 'T' });
    const idle = b.whenIdle('T');
    release1();
    expect((await b.wait(one)).status).toBe('completed');
    expect(await isSettled(idle)).toBe(false);
    release2();
    const event = await idle;
    expect(event.finished.map((s) => [s.task_id, s.result])).toEqual([
      [one, 1],
      [two, 2],
    ]);
    // Idle on B means B's inbox already holds every event of the thread.
    const got = inbox.receiver.drain() as { kind: string; task_id: string }[];
    expect(got.map((e) => [e.task_id, e.kind])).toEqual([
      [one, 'custom'],
      [one, 'completed'],
      [two, 'completed'],
    ]);
    expect(events).toHaveLength(1);
    await Promise.all([a.stop(), b.stop()]);
  });
});
