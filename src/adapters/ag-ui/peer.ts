/**
 * `@ag-ui/core`, loaded when `awaken-tasks/ag-ui` is imported: without the package installed, the
 * import fails with a {@link DriverError} naming it. Every runtime use of `@ag-ui/core` in this
 * entry point goes through here; other files import its types only.
 */
import { loadPeer } from '../../stores/driverError.js';

/** The `@ag-ui/core` module. */
export const agUi: typeof import('@ag-ui/core') = await loadPeer(
  '@ag-ui/core',
  'awaken-tasks/ag-ui',
  '^1.0.0',
  () => import('@ag-ui/core'),
);
