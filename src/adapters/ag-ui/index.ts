/**
 * `awaken-tasks/ag-ui`: a thread's background tasks as AG-UI activities — one activity message per
 * task (`ACTIVITY_SNAPSHOT`, then `ACTIVITY_DELTA` JSON Patches), so CopilotKit-style front ends
 * render live task progress. Needs the optional peer `@ag-ui/core` (importing this entry without
 * it throws a `DriverError` naming it).
 *
 * @example
 * import { forwardTaskActivities, TaskActivityMapper } from 'awaken-tasks/ag-ui';
 * @packageDocumentation
 */
export { forwardTaskActivities, TaskActivityMapper } from './activities.js';
export type { ForwardTaskActivitiesOptions, TaskActivityEvent, TaskActivityOptions } from './activities.js';
export type { TaskCard } from '../taskCards.js';
