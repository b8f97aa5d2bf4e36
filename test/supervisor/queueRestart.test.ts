import { describe, expect, it } from 'vitest';
import { createTaskSupervisor, MemoryTaskStore, ORPHAN_ERROR } from '../../src/index.js';
import { opts, parked, until } from '../helpers/async.js';

describe('a process that dies with queued and waiting tasks', () => {
  it('a fresh supervisor on the same store orphans them: failed, stop_reason orphaned, nothing left queued', async () => {
    const store = new MemoryTaskStore();
    // The first supervisor is abandoned without stop(): as if its process had been killed.
    const dead = createTaskSupervisor({ store, concurrency: { global: 1 } });
    // The asker takes the one slot first and gives it back while it waits for its answer.
    const asker = await dead.spawn(opts({ threadId: 'other' }), (ctx) => ctx.requestInput('still there?'));
    await until(() => dead.get(asker)?.phase === 'waiting', 10_000, 'asker waiting for input');
    const running = await dead.spawn(opts(), parked);
    const queued = await dead.spawn(opts(), parked);
    expect(dead.get(queued)?.phase).toBe('queued');
    expect(dead.get(asker)?.phase).toBe('waiting');
    const fresh = createTaskSupervisor({ store });
    await fresh.loadThread('t');
    await fresh.loadThread('other');
    for (const id of [running, queued, asker]) {
      expect(fresh.get(id)).toMatchObject({ status: 'failed', error: ORPHAN_ERROR, stop_reason: 'orphaned' });
      expect(fresh.get(id)).not.toHaveProperty('phase');
    }
    await fresh.stop();
    dead.cancelAll('t');
    dead.cancelAll('other');
    await dead.stop();
  });
});
