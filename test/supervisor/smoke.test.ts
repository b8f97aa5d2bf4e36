import { describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, TaskResult } from '../../src/index.js';

describe('smoke', () => {
  it('spawns, emits, completes', async () => {
    const inbox = createInbox();
    const sup = createTaskSupervisor({ ownerInbox: inbox.sender });
    const id = await sup.spawn({ threadId: 't', taskType: 'x', description: 'd' }, async (ctx) => {
      ctx.emit('progress', { p: 1 });
      return { ok: true };
    });
    expect(id).toBe('bg_0');
    const s = await sup.wait(id);
    expect(s.status).toBe('completed');
    expect(s.result).toEqual({ ok: true });
    expect(inbox.receiver.drain().map((e) => (e as { kind: string }).kind)).toEqual(['custom', 'completed']);
    const id2 = await sup.spawn({ threadId: 't', taskType: 'x', description: 'd' }, (ctx) =>
      ctx.cancelled().then(() => TaskResult.cancelled()),
    );
    expect(sup.get(id2)?.status).toBe('running');
    expect(sup.cancel(id2)).toBe(true);
    expect((await sup.wait(id2)).status).toBe('cancelled');
    await sup.stop();
    expect(sup.stats()).toMatchObject({ live: 0, retained: 2, spawned: 2 });
  });
});
