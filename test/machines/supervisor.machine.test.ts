import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import { supervisorMachine as exported, taskMachine as exportedTask } from '../../src/index.js';
import { taskMachine } from '../../machines/task.machine.js';

function start() {
  const log: string[] = [];
  const machine = supervisorMachine.provide({
    actions: {
      cancelEverything: () => log.push('cancelEverything'),
      drain: () => log.push('drain'),
    },
  });
  return { actor: createActor(machine).start(), log };
}

describe('supervisorMachine transitions', () => {
  it('starts active and ignores supervisor.drained while active', () => {
    const { actor, log } = start();
    expect(actor.getSnapshot().value).toBe('active');
    actor.send({ type: 'supervisor.drained' });
    expect(actor.getSnapshot().value).toBe('active');
    expect(log).toEqual([]);
  });

  it('supervisor.stop → stopping, running cancelEverything then drain, once', () => {
    const { actor, log } = start();
    actor.send({ type: 'supervisor.stop' });
    expect(actor.getSnapshot().value).toBe('stopping');
    actor.send({ type: 'supervisor.stop' });
    expect(actor.getSnapshot().value).toBe('stopping');
    expect(log).toEqual(['cancelEverything', 'drain']);
  });

  it('supervisor.drained in stopping → stopped, a final state', () => {
    const { actor } = start();
    actor.send({ type: 'supervisor.stop' });
    actor.send({ type: 'supervisor.drained' });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('the package entry exports both machines', () => {
    expect(exported).toBe(supervisorMachine);
    expect(exportedTask).toBe(taskMachine);
  });
});
