import { describe, expect, it } from 'vitest';
import { createTaskSupervisor, SpawnError } from '../../src/index.js';
import { FlakyStore, opts, parked, setup } from '../helpers/async.js';

async function spawnError(p: Promise<unknown>): Promise<SpawnError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SpawnError);
  return e as SpawnError;
}

describe('C. naming rules', () => {
  for (const name of ['parent', 'self', 'all', 'broadcast']) {
    it(`C1 '${name}' is a reserved name`, async () => {
      const { sup } = setup();
      const e = await spawnError(sup.spawn(opts({ name }), parked));
      expect(e.code).toBe('reserved_name');
      expect(e.message).toBe(`'${name}' is a reserved name`);
      expect(e.name).toBe('SpawnError');
      expect(sup.list('t')).toEqual([]);
      await sup.stop();
    });
  }

  it('C1 reserved names are refused by spawnAgent too', async () => {
    const { sup } = setup();
    const e = await spawnError(sup.spawnAgent({ threadId: 't', description: 'a', name: 'self' }, parked));
    expect(e.code).toBe('reserved_name');
    await sup.stop();
  });

  it('C2 a second running task with the same name on the same thread is refused', async () => {
    const { sup } = setup();
    await sup.spawn({ ...opts({ name: 'researcher' }), threadId: 'thread-1' }, parked);
    const e = await spawnError(sup.spawn({ ...opts({ name: 'researcher' }), threadId: 'thread-1' }, parked));
    expect(e.code).toBe('duplicate_name');
    expect(e.message).toBe("a running task named 'researcher' already exists");
    expect(sup.list('thread-1')).toHaveLength(1);
    await sup.stop();
  });

  it('C3 the name is free again once the task completed', async () => {
    const { sup } = setup();
    const a = await sup.spawn(opts({ name: 'researcher' }), () => 'x');
    await sup.wait(a);
    const b = await sup.spawn(opts({ name: 'researcher' }), parked);
    expect(b).not.toBe(a);
    expect(sup.get(b)?.status).toBe('running');
    await sup.stop();
  });

  it('C3 the name is free again once the task was cancelled or failed', async () => {
    const { sup } = setup();
    const a = await sup.spawn(opts({ name: 'n' }), parked);
    sup.cancel(a);
    await sup.wait(a);
    const b = await sup.spawn(opts({ name: 'n' }), () => {
      throw new Error('x');
    });
    await sup.wait(b);
    await expect(sup.spawn(opts({ name: 'n' }), parked)).resolves.toBe('bg_2');
    await sup.stop();
  });

  it('C4 the same running name on another thread is allowed', async () => {
    const { sup } = setup();
    await sup.spawn({ ...opts({ name: 'researcher' }), threadId: 'thread-1' }, parked);
    await expect(sup.spawn({ ...opts({ name: 'researcher' }), threadId: 'thread-2' }, parked)).resolves.toBe(
      'bg_1',
    );
    await sup.stop();
  });

  it('C5 an unnamed sub-agent is addressable by id; its description is not a name', async () => {
    const { sup } = setup();
    const id = await sup.spawnAgent({ threadId: 't', description: 'unnamed worker' }, parked);
    expect(() => sup.sendTaskInboxMessage(id, 't', 'parent', 'hi')).not.toThrow();
    expect(() => sup.sendTaskInboxMessage('unnamed worker', 't', 'parent', 'hi')).toThrow('task not found');
    // The description does not occupy a name.
    await expect(sup.spawn(opts({ name: 'unnamed worker' }), parked)).resolves.toBeDefined();
    await sup.stop();
  });

  it('C6 the reserved check is exact and case-sensitive; "" is a name like any other', async () => {
    const { sup } = setup();
    for (const name of ['Parent', 'SELF', 'All ', ' broadcast', '']) {
      await expect(sup.spawn(opts({ name }), parked)).resolves.toMatch(/^bg_\d+$/);
    }
    const e = await spawnError(sup.spawn(opts({ name: '' }), parked));
    expect(e.code).toBe('duplicate_name');
    expect(e.message).toBe("a running task named '' already exists");
    await sup.stop();
  });

  it('C6 the reserved check fires before any store access', async () => {
    const store = new FlakyStore();
    store.failing = true;
    const sup = createTaskSupervisor({ store });
    await expect(sup.spawn(opts({ name: 'parent' }), parked)).rejects.toMatchObject({
      code: 'reserved_name',
    });
    expect(store.attempts).toBe(0);
    await sup.stop();
  });

  it('C6 the duplicate check spans spawn and spawnAgent', async () => {
    const { sup } = setup();
    await sup.spawnAgent({ threadId: 't', description: 'a', name: 'w' }, parked);
    await expect(sup.spawn(opts({ name: 'w' }), parked)).rejects.toMatchObject({ code: 'duplicate_name' });
    await sup.spawn(opts({ name: 'v' }), parked);
    await expect(
      sup.spawnAgent({ threadId: 't', description: 'a', name: 'v' }, parked),
    ).rejects.toMatchObject({
      code: 'duplicate_name',
    });
    await sup.stop();
  });

  it('C6 the name is persisted but is not part of the summary', async () => {
    const store = new FlakyStore();
    const { sup } = setup({ store });
    const id = await sup.spawn(opts({ name: 'researcher' }), parked);
    expect(sup.get(id)).not.toHaveProperty('name');
    expect(sup.get(id)).not.toHaveProperty('owner_thread_id');
    expect(sup.persistedSnapshot()[id]).toMatchObject({ name: 'researcher', owner_thread_id: 't' });
    expect(await store.record(id)).toMatchObject({ name: 'researcher' });
    await sup.stop();
  });

  it('C6 a cancelling task still holds its name', async () => {
    const { sup } = setup({ cancelGraceMs: 20 });
    const id = await sup.spawn(opts({ name: 'w' }), async (ctx) => {
      await ctx.cancelled();
      await new Promise<void>(() => {}); // never returns; the grace period settles it
    });
    sup.cancel(id);
    await expect(sup.spawn(opts({ name: 'w' }), parked)).rejects.toMatchObject({ code: 'duplicate_name' });
    await sup.stop();
  });

  it('§6.5 concurrent spawns with one name: exactly one duplicate_name', async () => {
    const { sup } = setup();
    const results = await Promise.allSettled([
      sup.spawn(opts({ name: 'dup' }), parked),
      sup.spawn(opts({ name: 'dup' }), parked),
      sup.spawnAgent({ threadId: 't', description: 'a', name: 'dup' }, parked),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => (r.reason as SpawnError).code)).toEqual(['duplicate_name', 'duplicate_name']);
    expect(sup.list('t')).toHaveLength(1);
    await sup.stop();
  });

  it('§6.5 concurrent spawns with one name on a store with a slow first id block: still exactly one', async () => {
    const store = new FlakyStore();
    const sup = createTaskSupervisor({ store });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => sup.spawn(opts({ name: 'dup' }), parked)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await sup.stop();
  });
});
