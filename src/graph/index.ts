/**
 * `awaken-tasks/graph`: machine graphs and task-tree rendering (Mermaid, DOT, JSON) built on
 * `@xstate/graph`.
 *
 * @packageDocumentation
 * @module awaken-tasks/graph
 */
export {
  buildTaskForest,
  escapeDotString,
  escapeMermaidLabel,
  formatDuration,
  STATUS_COLORS,
  PHASE_COLORS,
  type StatusColor,
  taskDuration,
  taskLabelLines,
  type TaskTreeNode,
  taskTreeToDot,
  taskTreeToMermaid,
  walkTaskForest,
} from './taskTree.js';
export {
  guardName,
  type MachineEdgeKind,
  type MachineGraphEdge,
  type MachineGraphJson,
  type MachineGraphNode,
  machineGraph,
} from './machineModel.js';
export { toDot, toGraphJson, toMermaid } from './machineGraph.js';
export {
  dottedState,
  LIFECYCLE_EVENTS,
  type LifecyclePath,
  lifecycleEvent,
  lifecyclePaths,
} from './lifecycle.js';
export type {
  EventTap,
  InspectorBatch,
  InspectorEventSource,
  InspectorNode,
  InspectorOptions,
  InspectorServer,
  InspectorSnapshot,
  InspectorSource,
  InspectorTaskDetail,
  RecordedTaskEvent,
  StoreSource,
} from './inspector/index.js';
export {
  createEventTap,
  createStoreSource,
  GraphvizError,
  isTaskEvent,
  renderDotSvg,
  serveInspector,
  supervisorEvents,
} from './inspector/index.js';
