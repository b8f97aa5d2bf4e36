/**
 * awaken-tasks/testing: fast-check arbitraries, a reference model and model-based commands for
 * property-testing task lifecycles, an event-log checker, and the store conformance suite.
 * `fast-check` is a peer dependency: install your own version (3 or 4).
 *
 * @example
 * import fc from 'fast-check';
 * import { runSupervisorModel, supervisorCommands } from 'awaken-tasks/testing';
 * await fc.assert(fc.asyncProperty(supervisorCommands(), (cmds) => runSupervisorModel(cmds)));
 * @packageDocumentation
 * @module awaken-tasks/testing
 */
export type { Gates } from './gates.js';
export { createGates, GateAbortedError } from './gates.js';

export type {
  ScriptExpectation,
  ScriptOutcome,
  ScriptRunOptions,
  ScriptStep,
  TaskScript,
  TaskScriptOptions,
} from './taskScript.js';
export { arbTaskScript, expectedOutcome, runTaskScript, scriptBody, scriptEmits } from './taskScript.js';

export type { EventLogCheck, EventLogOptions } from './eventLog.js';
export { checkEventLog } from './eventLog.js';

export type { CancelReaction, ModelOutcome, ModelState, ModelTask, ReferenceModelOptions } from './model.js';
export { isModelTerminal, modelSummary, ReferenceModel, reactionOutcome } from './model.js';
export { byTask } from './modelTypes.js';
export { ManualTimers } from './manualTimers.js';

export type { Instruction } from './puppet.js';
export { Puppet } from './puppet.js';

export type { HarnessOptions, SupervisorWrapper } from './harness.js';
export { SupervisorHarness, sameJson, settleMicrotasks } from './harness.js';

export type { Real, SpawnSpec, SupervisorCommand } from './commands.js';
export {
  CancelCommand,
  EmitCommand,
  PruneCommand,
  RestartCommand,
  SendCommand,
  SettleCommand,
  SpawnChildCommand,
  SpawnCommand,
  StoreFaultCommand,
  TickCommand,
} from './commands.js';

export type { CommandKind, ModelRunOptions, SupervisorCommandsOptions } from './supervisorCommands.js';
export { runSupervisorModel, supervisorCommands } from './supervisorCommands.js';

export type { FlowCmd, FlowLimits, FlowPlant } from './flowModel.js';
export { flowScenario, runFlowModel } from './flowModel.js';

export type { MakeStore } from './storeConformance.js';
export { storeConformance } from './storeConformance.js';
export { durableConformance } from './durableConformance.js';
export type { DurableAttemptOutcome, DurableModelEnd } from './durableModel.js';
export { durableModel } from './durableModel.js';

export type { FaultyTaskStoreOptions } from './faultyStore.js';
export { FaultyTaskStore, StoreUnavailableError } from './faultyStore.js';
