import { afterEach, describe, expect, it, vi } from 'vitest';
import { serveInspector, supervisorEvents } from '../../src/graph/index.js';
import type { InspectorServer, InspectorTaskDetail } from '../../src/graph/index.js';
import { createInbox, createTaskSupervisor } from '../../src/index.js';
import { gate, http } from './inspectorHelpers.js';

/** vi.waitFor's own default (1 s) is too short on a loaded two-core CI machine. */
const POLL = { timeout: 10_000, interval: 20 };

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('the inspector on the supervisor events (no inbox tap)', () => {
  it('shows custom and terminal events, those sent to a sub-agent inbox too, and leaves the owner inbox untouched', async () => {
    const inbox = createInbox();
    const sup = createTaskSupervisor({ ownerInbox: inbox.sender, cancelGraceMs: 2_000 });
    // Count the inspector's observers, to see that closing it lets go of them.
    let observing = 0;
    const counted: Pick<typeof sup, 'onEvent'> = {
      onEvent(listener, filter) {
        const off = sup.onEvent(listener, filter);
        observing++;
        return () => {
          observing--;
          off();
        };
      },
    };
    const server: InspectorServer = await serveInspector(sup, { events: supervisorEvents(counted) });
    expect(observing).toBe(1);
    const g = gate();
    cleanups.push(
      () => sup.stop(),
      () => server.close(),
      async () => g.open(),
    );
    let child = '';
    const agent = await sup.spawnAgent({ threadId: 'main', description: 'coordinator' }, async (ctx) => {
      // The child reports to the sub-agent's own inbox, which no tap wraps.
      child = await sup.spawn(
        { threadId: 'main', taskType: 'leaf', description: 'leaf', inbox: ctx.inboxSender },
        async (c) => {
          c.emit('progress', { percent: 50 });
          await g.promise;
          return 'leaf done';
        },
      );
      await sup.wait(child);
      return null;
    });
    await vi.waitFor(async () => {
      const d = JSON.parse((await http(`${server.url}api/tasks/${child}`)).body) as InspectorTaskDetail;
      expect(d.events.map((e) => e.event)).toEqual([
        { kind: 'custom', task_id: child, event_type: 'progress', payload: { percent: 50 } },
      ]);
    }, POLL);
    g.open();
    await sup.wait(agent);
    await vi.waitFor(async () => {
      const d = JSON.parse((await http(`${server.url}api/tasks/${child}`)).body) as InspectorTaskDetail;
      expect(d.events.map((e) => e.event.kind)).toEqual(['custom', 'completed']);
    }, POLL);
    // The owner inbox got exactly the agent's terminal event: nothing was taken or added.
    expect(inbox.receiver.drain()).toEqual([{ kind: 'completed', task_id: agent, result: null }]);
    await server.close();
    expect(observing).toBe(0);
  });
});
