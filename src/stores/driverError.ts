/**
 * The database drivers and the adapters' libraries are optional peer dependencies:
 * `npm i awaken-tasks` installs none of them.
 * Each durable store loads its driver the first time one is constructed, so a program that only
 * uses the in-memory store never needs them; each adapter entry point (`awaken-tasks/ai-sdk`, …)
 * loads its library when it is imported. A missing one is reported by name. This module
 * mentions no driver type, so the declarations users compile against never need the drivers'
 * own type packages.
 */
import { createRequire } from 'node:module';

/** Why a store could not load its database driver, or an adapter its library. */
export type DriverErrorCode = 'driver_missing' | 'driver_failed';

/**
 * A durable store's database driver, or an adapter entry point's library, could not be loaded.
 * `code` is `'driver_missing'` when the package is not installed (the message names the command
 * that installs it) and `'driver_failed'` when it is installed but does not load: for a driver
 * typically a native addon built for another Node version (the message names the rebuild
 * command), for an adapter's library a version without what the adapter needs (the message names
 * the supported range). `cause` is the loader's error. Importing an adapter entry point
 * (`awaken-tasks/ai-sdk`, `/mcp`, `/otel`, `/ag-ui`, `/testing`) without its library rejects
 * with this error.
 *
 * @example
 * import { DriverError, SqliteTaskStore } from 'awaken-tasks/sqlite';
 * try {
 *   new SqliteTaskStore('./tasks.db');
 * } catch (e) {
 *   if (e instanceof DriverError && e.code === 'driver_missing') console.error(e.message);
 *   // awaken-tasks/sqlite needs the package `better-sqlite3`, which is not installed: run `npm install better-sqlite3`
 * }
 */
export class DriverError extends Error {
  override readonly name = 'DriverError';
  readonly code: DriverErrorCode;
  /** The npm package that could not be loaded, e.g. `'better-sqlite3'`. */
  readonly driver: string;
  constructor(code: DriverErrorCode, driver: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.driver = driver;
  }
}

type Require = (id: string) => unknown;

const requireFromHere: Require = createRequire(import.meta.url);

/** Whether `e` says that `driver` itself (not something it needs) could not be found. */
function isMissing(e: unknown, driver: string): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${driver}'`)
  );
}

/**
 * Loads the optional package `driver` for the entry point `entry`, turning a failure into a
 * {@link DriverError}. `load` is replaceable so tests can simulate a missing package.
 *
 * @example
 * const pgModule = loadDriver<typeof import('pg')>('pg', 'awaken-tasks/postgres');
 */
export function loadDriver<T>(driver: string, entry: string, load: Require = requireFromHere): T {
  try {
    return load(driver) as T;
  } catch (e) {
    throw driverErrorOf(
      e,
      driver,
      entry,
      `reinstall it for this Node version with \`npm rebuild ${driver}\``,
    );
  }
}

/**
 * Loads the optional peer `pkg` of the entry point `entry` as an ES module (`load` is the
 * `import()` of it, written at the call site so bundlers and test mocks see the specifier),
 * turning a failure into a {@link DriverError}: `driver_missing` when the package is not
 * installed, `driver_failed` when it is but does not load (often a version without the module the
 * entry needs; the message names the supported `range`). Adapter entry points await it at their
 * top level, so importing one without its peer fails with this error, not Node's bare
 * `Cannot find package`.
 *
 * @example
 * const ai = await loadPeer('ai', 'awaken-tasks/ai-sdk', '>=6.0.0', () => import('ai'));
 */
export async function loadPeer<T>(
  pkg: string,
  entry: string,
  range: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (e) {
    throw driverErrorOf(e, pkg, entry, `install a supported version with \`npm install ${pkg}@'${range}'\``);
  }
}

function driverErrorOf(e: unknown, driver: string, entry: string, fix: string): DriverError {
  if (isMissing(e, driver)) {
    return new DriverError(
      'driver_missing',
      driver,
      `${entry} needs the package \`${driver}\`, which is not installed: run \`npm install ${driver}\``,
      { cause: e },
    );
  }
  const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new DriverError('driver_failed', driver, `${entry} could not load \`${driver}\` (${why}): ${fix}`, {
    cause: e,
  });
}
