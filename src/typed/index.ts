export type { TaskType } from './defineTask.js';
export { defineTask } from './defineTask.js';
export type { JsonCompatible, JsonMember } from './json.js';
export type {
  InputArgs,
  TaskTypeSpec,
  TypedCompletedEvent,
  TypedCustomEvent,
  TypedSpawnOptions,
  TypedTaskContext,
  TypedTaskEvent,
  TypedTaskSummary,
} from './types.js';
export type { StandardResult, StandardSchemaV1, Validator } from './validator.js';
export { isValidator, validate } from './validator.js';
