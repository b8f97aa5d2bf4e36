/**
 * `awaken-tasks/graph`: machine graphs and task-tree rendering (Mermaid, DOT, JSON) built on
 * `@xstate/graph`.
 */
export {
  buildTaskForest,
  escapeDotString,
  escapeMermaidLabel,
  formatDuration,
  STATUS_COLORS,
  type StatusColor,
  taskDuration,
  taskLabelLines,
  type TaskTreeNode,
  taskTreeToDot,
  taskTreeToMermaid,
  walkTaskForest,
} from './taskTree.js';
