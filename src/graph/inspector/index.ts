/**
 * The live task-tree inspector: `serveInspector` serves a page that redraws every thread's task
 * tree as tasks spawn, emit, finish and get cancelled. Exported from `awaken-tasks/graph`.
 */
export {
  createEventTap,
  type EventTap,
  type InspectorEventSource,
  isTaskEvent,
  type RecordedTaskEvent,
  supervisorEvents,
} from './events.js';
export type { InspectorNode, InspectorSnapshot, InspectorSource, InspectorTaskDetail } from './model.js';
export type { InspectorBatch } from './sse.js';
export { type InspectorOptions, type InspectorServer, serveInspector } from './server.js';
export { createStoreSource, type StoreSource } from './storeSource.js';
export { GraphvizError, renderDotSvg } from './graphviz.js';
