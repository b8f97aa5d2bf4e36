/**
 * awaken-tasks: an XState actor runtime that supervises the background tasks an AI agent starts.
 *
 * @example
 * import { createTaskSupervisor, createInbox } from 'awaken-tasks';
 * const inbox = createInbox();
 * const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
 * @packageDocumentation
 * @module awaken-tasks
 */
export type {
  CancelledTaskEvent,
  CompletedTaskEvent,
  CustomTaskEvent,
  DurableSummaryFields,
  FailedTaskEvent,
  Json,
  PersistedTaskMeta,
  TaskEvent,
  TaskId,
  TaskParentContext,
  TaskPhase,
  TaskStatus,
  TaskStopReason,
  TaskSummary,
  TaskUsage,
  TerminalTaskEvent,
} from './wire/types.js';
export { isEmptyParentContext, isTerminal, TASK_STATUSES } from './wire/types.js';
export type { TaskCancellation, TaskFailure, TaskSuccess } from './wire/taskResult.js';
export { TaskResult } from './wire/taskResult.js';
export { parsePersistedTaskMeta, parseTaskEvent } from './wire/parse.js';
export { compactParentContext, metaFromSummary, summaryFromMeta } from './wire/convert.js';
export { jsonSafetyProblem, toJson } from './wire/jsonSafe.js';

export type { Inbox, InboxOptions, InboxReceiver, InboxSender } from './inbox/types.js';
export { createInbox, DEFAULT_INBOX_CAPACITY } from './inbox/inbox.js';
export { createDurableInbox } from './supervisor/durableInbox.js';

export type { ToolLineage } from './lineage/lineage.js';
export { currentTaskId, currentToolLineage, withToolLineage } from './lineage/lineage.js';

export type { CorruptRecord, PutResult, TaskStore } from './stores/types.js';
export { MemoryTaskStore } from './stores/memory.js';
export { DELIVERED_RETENTION } from './stores/outbox.js';
export type { DispatchVerdict, MessageOutboxStore } from './stores/outbox.js';
export { MemoryMessageOutbox } from './stores/memoryOutbox.js';
export type {
  ChildInboxRoute,
  DeadLetter,
  DeliveredMessage,
  DurableMessageRequest,
  OutboxEntry,
  OutboxRoute,
} from './wire/messaging.js';

export type {
  AgentTaskContext,
  PruneOptions,
  SpawnOptions,
  StoreBacklogEntry,
  SupervisorOptions,
  SupervisorStats,
  TaskActorRef,
  TaskChange,
  TaskContext,
  TaskSupervisor,
  WaitOptions,
} from './supervisor/types.js';
export type { ReplicaEvent } from './stores/coordination.js';
export type { TaskEventFilter, TaskEventListener } from './supervisor/eventObservers.js';
export type { TaskEventStream, TaskEventStreamOptions } from './supervisor/eventStream.js';
export type { ThreadIdleEvent, ThreadIdleListener, WhenIdleOptions } from './supervisor/idle.js';
export type { SendErrorCode, SpawnErrorCode, StoreErrorCode } from './supervisor/errors.js';
export { SendError, SpawnError, StoreError } from './supervisor/errors.js';
export type { DriverErrorCode } from './stores/driverError.js';
export { DriverError } from './stores/driverError.js';
export { createTaskSupervisor } from './supervisor/createTaskSupervisor.js';
export { ORPHAN_ERROR } from './supervisor/restore.js';
export { RESERVED_NAMES } from './supervisor/spawnChecks.js';
export type { TimerClock } from './supervisor/options.js';
export { timeoutMessage } from './supervisor/deadline.js';
export type { ConcurrencyLimits } from './supervisor/concurrency.js';
export type { Usage } from './supervisor/budget.js';
export type { InputErrorCode, RequestInputOptions } from './supervisor/input.js';
export { INPUT_REQUIRED_EVENT, InputError } from './supervisor/input.js';
export type { StopReport, StopTarget } from './supervisor/stopReport.js';
export type { UsageQuery } from './supervisor/flowControl.js';

export type {
  InputArgs,
  JsonCompatible,
  JsonMember,
  StandardResult,
  StandardSchemaV1,
  TaskType,
  TaskTypeSpec,
  TypedCompletedEvent,
  TypedCustomEvent,
  TypedSpawnOptions,
  TypedTaskContext,
  TypedTaskEvent,
  TypedTaskSummary,
  Validator,
} from './typed/index.js';
export { defineTask, isValidator, validate } from './typed/index.js';
export type { DurableSpec, TaskCheckpoint } from './typed/types.js';
export { AttemptFencedError, NonRetryableError } from './durable/errors.js';
export type { ResolvedRetryPolicy, RetryPolicy } from './durable/policy.js';
export { backoffDelay, isNonRetryable, resolveRetryPolicy } from './durable/policy.js';
export type { DurableSpawned } from './durable/runtime.js';
export { LOST_ATTEMPT_ERROR } from './durable/runtime.js';
export type {
  BackoffNumbers,
  DurableCreated,
  DurableRow,
  DurableState,
  DurableTaskStore,
} from './stores/durable.js';
export { MemoryDurableStore } from './stores/memoryDurable.js';

export type {
  TaskFinalState,
  TaskMachineContext,
  TaskMachineEvent,
  TaskMachineInput,
  TaskOutcome,
  TaskTimerEvent,
  StopReason,
} from '../machines/task.machine.js';
export { DEADLINE_EVENT, GRACE_EVENT, taskMachine } from '../machines/task.machine.js';
export type { SupervisorMachineEvent } from '../machines/supervisor.machine.js';
export { supervisorMachine } from '../machines/supervisor.machine.js';
