import { describe, expect, it } from 'vitest';
import type { TaskMachineEvent } from '../../machines/task.machine.js';
import { newEntry, type TaskEntry } from '../../src/supervisor/entry.js';
import { FlowControl, type FlowHost, type FlowOptions } from '../../src/supervisor/flowControl.js';
import { Registry } from '../../src/supervisor/registry.js';

/** A flow control over a recording host, with one task whose actor refuses direct sends. */
function setup(options: FlowOptions) {
  const registry = new Registry();
  const sent: string[] = [];
  const host: FlowHost = {
    registry,
    now: () => 0,
    notify: () => {},
    emit: () => true,
    startQueued: () => {},
    persist: () => {},
    cancelTree: () => {},
    send: (_entry: TaskEntry, event: TaskMachineEvent) => {
      sent.push(event.type);
    },
  };
  const flow = new FlowControl(host, options);
  const entry = newEntry({
    id: 'bg_0',
    ownerThreadId: 't',
    name: undefined,
    summary: Object.freeze({
      task_id: 'bg_0',
      task_type: 'x',
      description: 'd',
      status: 'running' as const,
      created_at_ms: 0,
    }),
    local: true,
    inbox: undefined,
    agentInbox: undefined,
  });
  // Only the runner sends to a task's actor (it guards a final actor and finishes the task).
  entry.actor = {
    send: () => {
      throw new Error('flow control sent to the actor directly');
    },
  } as unknown as TaskEntry['actor'];
  entry.committed = true;
  registry.add(entry);
  if (options.concurrency !== undefined) {
    entry.flow = flow.newFlow(0, false, undefined);
    expect(flow.admit(entry)).toBe(true);
  }
  return { flow, entry, sent };
}

describe("flow control sends the task's input events through the runner", () => {
  for (const [name, options] of [
    ['without limits', {}],
    ['with limits (the answer waits for a slot)', { concurrency: { global: 1 } }],
  ] as const) {
    it(`requestInput and provideInput, ${name}: task.input.requested then task.input.provided, through host.send`, async () => {
      const { flow, entry, sent } = setup(options);
      const answer = flow.requestInput(entry, { q: 1 }, undefined);
      expect(sent).toEqual(['task.input.requested']);
      expect(flow.provideInput(entry.id, 'yes')).toBe(true);
      expect(sent).toEqual(['task.input.requested', 'task.input.provided']);
      await expect(answer).resolves.toBe('yes');
    });
  }
});
