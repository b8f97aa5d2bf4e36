/**
 * `awaken-tasks/mcp`: MCP tasks (spec 2025-11-25) on a task supervisor — a durable `TaskStore` for
 * the MCP TypeScript SDK and `registerBackgroundTool`, which makes each call of a tool a supervised
 * task (status, cancel of the whole tree, progress notifications, results, TTLs, restart safety).
 * Needs the optional peer `@modelcontextprotocol/sdk`.
 *
 * @example
 * import { createSupervisedTaskStore, registerBackgroundTool } from 'awaken-tasks/mcp';
 * @packageDocumentation
 */
import './peer.js';

export { SupervisedTaskStore } from './taskStore.js';
export { createSupervisedTaskStore } from './createStore.js';
export { registerBackgroundTool } from './registerBackgroundTool.js';
export { mcpStatus, toolResultOf } from './mapping.js';
export type { StartTaskOptions, SupervisedTaskStoreOptions } from './options.js';
export type { BackgroundToolConfig, BackgroundToolContext } from './registerBackgroundTool.js';
export type { McpTaskStatus } from './mapping.js';
