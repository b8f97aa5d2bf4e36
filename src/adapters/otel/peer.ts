/**
 * The OpenTelemetry API, loaded when `awaken-tasks/otel` is imported: without the package
 * installed, the import fails with a {@link DriverError} naming it. Every runtime use of
 * `@opentelemetry/api` in this entry point goes through here; other files import its types only.
 */
import { loadPeer } from '../../stores/driverError.js';

/** The `@opentelemetry/api` module. */
export const otel: typeof import('@opentelemetry/api') = await loadPeer(
  '@opentelemetry/api',
  'awaken-tasks/otel',
  '^1.3.0',
  () => import('@opentelemetry/api'),
);
