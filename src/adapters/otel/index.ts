/**
 * `awaken-tasks/otel`: OpenTelemetry traces of background tasks — one `awaken.background_task`
 * span per task, parented to its parent task's span or to the span active at spawn. Needs the
 * optional peer `@opentelemetry/api`; nothing here is loaded unless you import this entry.
 *
 * @example
 * import { traceTasks } from 'awaken-tasks/otel';
 * const tracing = traceTasks(supervisor);
 * @packageDocumentation
 */
export { traceTasks } from './traceTasks.js';
export { TASK_ATTRIBUTES, TASK_ERROR_TYPE, TASK_SPAN_NAME, startAttributes } from './attributes.js';
export type { TaskTracing, TraceTasksOptions } from './traceTasks.js';
