/**
 * The AI SDK, loaded when `awaken-tasks/ai-sdk` is imported: without the package installed, the
 * import fails with a {@link DriverError} naming it (not Node's bare `Cannot find package`).
 * Every runtime use of `ai` in this entry point goes through here; other files import its types only.
 */
import { loadPeer } from '../../stores/driverError.js';

/** The `ai` module (AI SDK 6 or 7). */
export const ai: typeof import('ai') = await loadPeer(
  'ai',
  'awaken-tasks/ai-sdk',
  '>=6.0.0',
  () => import('ai'),
);
