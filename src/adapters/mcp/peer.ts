/**
 * The MCP SDK's task module, loaded when `awaken-tasks/mcp` is imported: this entry point uses the
 * SDK's types only, but is useless without the SDK, so importing it without the package installed
 * fails at once with a {@link DriverError} naming it, and a version without the experimental task
 * API with one naming the supported range.
 */
import { loadPeer } from '../../stores/driverError.js';

await loadPeer(
  '@modelcontextprotocol/sdk',
  'awaken-tasks/mcp',
  '^1.24.0',
  () => import('@modelcontextprotocol/sdk/experimental/tasks'),
);
