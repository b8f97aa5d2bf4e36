import { setup } from 'xstate';

/** Events the supervisor actor accepts. */
export type SupervisorMachineEvent =
  /** `stop()` was called: refuse spawns, cancel every live task. */
  | { type: 'supervisor.stop' }
  /** Every task has settled and every store write has been attempted. */
  | { type: 'supervisor.drained' };

/**
 * The supervisor's own lifecycle: `active` → `stopping` → `stopped`.
 *
 * Task actors are created with this actor as their parent (one actor system, one inspection
 * stream), but their registry lives in the supervisor's own indexed structure rather than in
 * this machine's context or `snapshot.children`: XState copies `children` on every spawn, which
 * makes a spawn O(live tasks) (see the README's performance notes). The per-task hot paths —
 * spawn, emit, settle — therefore never transition this machine.
 *
 * Actions are no-ops here and supplied with `.provide()` by `createTaskSupervisor`:
 * `cancelEverything` on entering `stopping`, `drain` right after it (it sends
 * `supervisor.drained` once all tasks settled and writes were attempted).
 *
 * @example
 * const actor = createActor(supervisorMachine).start();
 * actor.send({ type: 'supervisor.stop' });
 * actor.getSnapshot().value; // 'stopping'
 */
export const supervisorMachine = setup({
  types: {
    events: {} as SupervisorMachineEvent,
  },
  actions: {
    cancelEverything: () => {},
    drain: () => {},
  },
}).createMachine({
  id: 'supervisor',
  initial: 'active',
  states: {
    active: {
      on: { 'supervisor.stop': 'stopping' },
    },
    stopping: {
      entry: ['cancelEverything', 'drain'],
      on: { 'supervisor.drained': 'stopped' },
    },
    stopped: { type: 'final' },
  },
});
