/**
 * fast-check, loaded when `awaken-tasks/testing` is imported: without the package installed, the
 * import fails with a {@link DriverError} naming it. Every runtime use of `fast-check` in the
 * testing kit goes through here; other files import its types only.
 */
import type fcModule from 'fast-check';
import { loadPeer } from '../stores/driverError.js';

/** fast-check's default export, as `import fc from 'fast-check'` gives it. */
export const fc: typeof fcModule = (
  await loadPeer('fast-check', 'awaken-tasks/testing', '>=3.0.0', () => import('fast-check'))
).default;
