import { describe, expect, it } from 'vitest';
import { cancelRunForThread, findRunningInThread } from '../../src/agent/resolve.js';
import { createTaskSupervisor } from '../../src/index.js';
import type { TaskSupervisor } from '../../src/index.js';
import { parked } from '../helpers/async.js';

function spawnNamed(s: TaskSupervisor, threadId: string, name: string | undefined, parent?: string) {
  return s.spawn(
    {
      threadId,
      taskType: 'work',
      description: name ?? 'anon',
      ...(name === undefined ? {} : { name }),
      ...(parent === undefined ? {} : { parentContext: { task_id: parent } }),
    },
    parked,
  );
}

describe('name index (issue 11: tool name lookups use an index, not a scan)', () => {
  it('findRunningByName finds the running task of that thread by spawn name, and forgets it once terminal', async () => {
    const s = createTaskSupervisor();
    const a = await spawnNamed(s, 't1', 'crawler');
    const b = await spawnNamed(s, 't2', 'crawler');
    expect(s.findRunningByName('t1', 'crawler')?.task_id).toBe(a);
    expect(s.findRunningByName('t2', 'crawler')?.task_id).toBe(b);
    expect(s.findRunningByName('t3', 'crawler')).toBeUndefined();
    expect(s.findRunningByName('t1', a)).toBeUndefined(); // ids are not names
    s.cancel(a);
    await s.wait(a, { timeoutMs: 5_000 });
    expect(s.findRunningByName('t1', 'crawler')).toBeUndefined();
    // The name is free again: a new task may take it.
    const c = await spawnNamed(s, 't1', 'crawler');
    expect(s.findRunningByName('t1', 'crawler')?.task_id).toBe(c);
    s.cancelAll('t1');
    s.cancelAll('t2');
    await s.stop();
  });

  it('findRunningChildByName finds direct children in any thread; ownerThreadOf answers by id', async () => {
    const s = createTaskSupervisor();
    const root = await spawnNamed(s, 't1', undefined);
    const other = await spawnNamed(s, 't9', undefined);
    await spawnNamed(s, 't1', 'helper', other); // same name, another parent
    const child = await spawnNamed(s, 't2', 'helper', root);
    await spawnNamed(s, 't1', 'grandchild', child);
    expect(s.findRunningChildByName(root, 'helper')?.task_id).toBe(child);
    expect(s.findRunningChildByName(root, 'grandchild')).toBeUndefined();
    expect(s.ownerThreadOf(child)).toBe('t2');
    expect(s.ownerThreadOf('bg_999')).toBeUndefined();
    expect(() => s.findRunningByName(1 as never, 'x')).toThrow(
      'Expected `threadId` to be a string, got number',
    );
    for (const t of ['t1', 't2', 't9']) s.cancelAll(t);
    await s.stop();
  });

  it('runningRootsOfRun lists the running roots of a run in every thread, not nested tasks or finished roots', async () => {
    const s = createTaskSupervisor();
    const spawnIn = (threadId: string, pc: { run_id: string; task_id?: string }) =>
      s.spawn({ threadId, taskType: 'w', description: 'd', parentContext: pc }, parked);
    const a = await spawnIn('t1', { run_id: 'r1' });
    const b = await spawnIn('t2', { run_id: 'r1' });
    await spawnIn('t1', { run_id: 'r1', task_id: a });
    await spawnIn('t1', { run_id: 'r2' });
    expect(s.runningRootsOfRun('r1').map((x) => x.task_id)).toEqual([a, b]);
    s.cancel(b);
    await s.wait(b, { timeoutMs: 5_000 });
    expect(s.runningRootsOfRun('r1').map((x) => x.task_id)).toEqual([a]);
    expect(s.runningRootsOfRun('nope')).toEqual([]);
    s.cancelAll('t1');
    await s.stop();
  });

  it('findRunningInThread: id of a task the thread owns, else its name; never another thread’s task', async () => {
    const s = createTaskSupervisor();
    const mine = await spawnNamed(s, 't1', 'researcher');
    const theirs = await spawnNamed(s, 't2', 'writer');
    expect(findRunningInThread(s, 't1', mine)?.task_id).toBe(mine);
    expect(findRunningInThread(s, 't1', 'researcher')?.task_id).toBe(mine);
    expect(findRunningInThread(s, 't1', theirs)).toBeUndefined();
    expect(findRunningInThread(s, 't1', 'writer')).toBeUndefined();
    s.cancelAll('t1');
    s.cancelAll('t2');
    await s.stop();
  });

  it('a lookup (and a run cancel) among 20 000 tasks reads no snapshot', async () => {
    const s = createTaskSupervisor();
    for (let i = 0; i < 20_000; i++)
      await s.spawn({ threadId: `t${i % 50}`, taskType: 'w', description: 'd', name: `n${i}` }, parked);
    let snapshots = 0;
    const real = s.persistedSnapshot.bind(s);
    s.persistedSnapshot = () => {
      snapshots++;
      return real();
    };
    expect(findRunningInThread(s, 't7', 'n19957')?.task_id).toBe('bg_19957');
    expect(cancelRunForThread(s, 't7', 'no-such-run')).toBe(0);
    expect(snapshots).toBe(0);
    for (let i = 0; i < 50; i++) s.cancelAll(`t${i}`);
    await s.stop();
  }, 60_000);
});
