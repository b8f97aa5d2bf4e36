/**
 * awaken-tasks/ag-ui: task cards as AG-UI activity events, checked against @ag-ui/core's own
 * schemas, with the deltas applied to the snapshot as an AG-UI client would.
 */
import { EventType } from '@ag-ui/core';
import { EventSchema } from '@ag-ui/core/schemas';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  forwardTaskActivities,
  type TaskActivityEvent,
  TaskActivityMapper,
  type TaskCard,
} from '../../src/adapters/ag-ui/index.js';
import { createInbox, createTaskSupervisor, type TaskSupervisor } from '../../src/index.js';
import { gate, until } from '../helpers/async.js';

/** Applies an activity's events in order, as a client does: the snapshot, then each JSON Patch. */
function replay(events: readonly TaskActivityEvent[]): Map<string, Record<string, unknown>> {
  const content = new Map<string, Record<string, unknown>>();
  for (const e of events) {
    if (e.type === EventType.ACTIVITY_SNAPSHOT) {
      content.set(e.messageId, structuredClone(e.content));
      continue;
    }
    const doc = content.get(e.messageId);
    if (doc === undefined) throw new Error(`delta before snapshot for ${e.messageId}`);
    for (const op of e.patch) {
      const key = op.path.slice(1).replaceAll('~1', '/').replaceAll('~0', '~');
      if (op.op === 'add' || op.op === 'replace') doc[key] = structuredClone(op.value);
      else if (op.op === 'remove') delete doc[key];
      else throw new Error(`unexpected op ${op.op}`);
    }
  }
  return content;
}

const supervisors: TaskSupervisor[] = [];
afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.stop();
});
function supervisor(): TaskSupervisor {
  const s = createTaskSupervisor({ ownerInbox: createInbox().sender });
  supervisors.push(s);
  return s;
}

describe('awaken-tasks/ag-ui', () => {
  it('forwards a task as one activity: a snapshot, then deltas that rebuild its final state', async () => {
    const sup = supervisor();
    const events: TaskActivityEvent[] = [];
    const stop = forwardTaskActivities(sup, { threadId: 't', emit: (e) => events.push(e), now: () => 42 });
    const go = gate();
    const id = await sup.spawn(
      { threadId: 't', taskType: 'crawl', description: 'crawl docs' },
      async (ctx) => {
        ctx.emit('progress', { pages: 1 });
        await go.promise;
        ctx.emit('progress', { pages: 2 });
        return { pages: 2 };
      },
    );
    await sup.spawn({ threadId: 'other', taskType: 'x', description: 'elsewhere' }, async () => 1);
    go.open();
    await sup.wait(id);
    await until(() =>
      events.some(
        (e) => e.type === EventType.ACTIVITY_DELTA && JSON.stringify(e.patch).includes('completed'),
      ),
    );
    stop();

    for (const e of events) expect(() => EventSchema.parse(e)).not.toThrow();
    expect(events.every((e) => e.messageId === `task:${id}` && e.activityType === 'background_task')).toBe(
      true,
    );
    expect(events[0]).toMatchObject({
      type: EventType.ACTIVITY_SNAPSHOT,
      timestamp: 42,
      replace: true,
      content: { task_id: id, task_type: 'crawl', description: 'crawl docs', status: 'running' },
    });
    expect(events.slice(1).every((e) => e.type === EventType.ACTIVITY_DELTA)).toBe(true);
    const final = replay(events).get(`task:${id}`);
    const summary = sup.get(id)!;
    expect(final).toEqual({
      task_id: id,
      task_type: 'crawl',
      description: 'crawl docs',
      status: 'completed',
      result: { pages: 2 },
      progress: { event_type: 'progress', payload: { pages: 2 } },
      events: 2,
      created_at_ms: summary.created_at_ms,
      completed_at_ms: summary.completed_at_ms,
    });
    // Each delta carries only what changed: the last one is the terminal status, result and time.
    const last = events.at(-1) as Extract<TaskActivityEvent, { patch: unknown }>;
    expect(last.patch.map((op) => op.path).sort()).toEqual(['/completed_at_ms', '/result', '/status']);
  });

  it('a task running before forwarding starts gets its snapshot at once; stop() ends the stream', async () => {
    const sup = supervisor();
    const go = gate();
    const id = await sup.spawn({ threadId: 't', taskType: 'a', description: 'a' }, async (ctx) => {
      ctx.emit('progress', { n: 1 });
      await go.promise;
      ctx.emit('progress', { n: 2 });
    });
    await until(() => sup.latestEvent(id) !== undefined);
    const events: TaskActivityEvent[] = [];
    const stop = forwardTaskActivities(sup, { threadId: 't', emit: (e) => events.push(e) });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: EventType.ACTIVITY_SNAPSHOT,
      content: { status: 'running', progress: { event_type: 'progress', payload: { n: 1 } }, events: 0 },
    });
    stop();
    go.open();
    await sup.wait(id);
    expect(events).toHaveLength(1);
  });

  it('a task waiting for input shows phase and request on its activity; the answer removes them', async () => {
    const sup = supervisor();
    const events: TaskActivityEvent[] = [];
    const stop = forwardTaskActivities(sup, { threadId: 't', emit: (e) => events.push(e) });
    const id = await sup.spawn({ threadId: 't', taskType: 'deploy', description: 'deploy' }, async (ctx) => {
      const answer = await ctx.requestInput({ question: 'Deploy to production?' });
      return { answer };
    });
    await until(() => replay(events).get(`task:${id}`)?.phase === 'waiting');
    expect(replay(events).get(`task:${id}`)).toMatchObject({
      status: 'running',
      phase: 'waiting',
      input_request: { question: 'Deploy to production?' },
    });
    expect(sup.provideInput(id, 'yes')).toBe(true);
    await sup.wait(id);
    await until(() => replay(events).get(`task:${id}`)?.status === 'completed');
    stop();
    const final = replay(events).get(`task:${id}`)!;
    expect(final).toMatchObject({ status: 'completed', result: { answer: 'yes' } });
    expect(final).not.toHaveProperty('phase');
    expect(final).not.toHaveProperty('input_request');
    const removed = events.flatMap((e) => (e.type === EventType.ACTIVITY_DELTA ? e.patch : []));
    expect(removed).toContainEqual({ op: 'remove', path: '/phase' });
    for (const e of events) expect(() => EventSchema.parse(e)).not.toThrow();
  });

  it('an emit that throws is a process warning; the task and later events go on', async () => {
    const sup = supervisor();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    let calls = 0;
    const stop = forwardTaskActivities(sup, {
      threadId: 't',
      emit: () => {
        calls++;
        throw new Error('client gone');
      },
    });
    const id = await sup.spawn({ threadId: 't', taskType: 'a', description: 'a' }, async () => 'ok');
    expect((await sup.wait(id)).status).toBe('completed');
    await until(() => calls >= 2);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('an AG-UI emit threw: Error: client gone'));
    warn.mockRestore();
    stop();
  });

  it('the mapper: nothing changed is no event, a field that went away is removed, forget() re-snapshots', () => {
    const mapper = new TaskActivityMapper({
      activityType: 'research',
      messageId: (id) => `m/${id}`,
      now: () => 1,
    });
    const card: TaskCard = {
      task_id: 'bg_0',
      task_type: 'r',
      description: 'd',
      status: 'running',
      events: 1,
      progress: { event_type: 'p', payload: 1 },
      created_at_ms: 0,
    };
    expect(mapper.map(card)).toMatchObject({
      type: EventType.ACTIVITY_SNAPSHOT,
      messageId: 'm/bg_0',
      activityType: 'research',
    });
    expect(mapper.map({ ...card })).toBeUndefined();
    const { progress: _dropped, ...withoutProgress } = card;
    expect(mapper.map({ ...withoutProgress, status: 'failed', error: 'x' })).toEqual({
      type: EventType.ACTIVITY_DELTA,
      messageId: 'm/bg_0',
      activityType: 'research',
      timestamp: 1,
      patch: [
        { op: 'add', path: '/status', value: 'failed' },
        { op: 'add', path: '/error', value: 'x' },
        { op: 'remove', path: '/progress' },
      ],
    });
    mapper.forget('bg_0');
    expect(mapper.map(card)?.type).toBe(EventType.ACTIVITY_SNAPSHOT);
  });

  it('bad arguments are TypeErrors', () => {
    const sup = supervisor();
    expect(() => new TaskActivityMapper({ activityType: '' })).toThrow(
      'Expected `options.activityType` to be a non-empty string, got ""',
    );
    expect(() => new TaskActivityMapper({ now: 1 as never })).toThrow(TypeError);
    expect(() => forwardTaskActivities(null as never, { threadId: 't', emit: () => {} })).toThrow(
      'Expected `supervisor` to be a TaskSupervisor, got null',
    );
    expect(() => forwardTaskActivities(sup, { threadId: 1 as never, emit: () => {} })).toThrow(
      'Expected `options.threadId` to be a string, got number',
    );
    expect(() => forwardTaskActivities(sup, { threadId: 't', emit: 'x' as never })).toThrow(TypeError);
  });
});
