/**
 * The database drivers are optional peer dependencies: `npm i awaken-tasks` installs neither.
 * Each durable store loads its driver the first time one is constructed, so a program that only
 * uses the in-memory store never needs them, and a missing one is reported by name. This module
 * mentions no driver type, so the declarations users compile against never need the drivers'
 * own type packages.
 */
import { createRequire } from 'node:module';

/** Why a store could not load its database driver. */
export type DriverErrorCode = 'driver_missing' | 'driver_failed';

/**
 * A durable store's database driver could not be loaded. `code` is `'driver_missing'` when the
 * package is not installed (the message names the command that installs it) and `'driver_failed'`
 * when it is installed but does not load, typically a native addon built for another Node version
 * (the message names the rebuild command; `cause` is the loader's error).
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
    if (isMissing(e, driver)) {
      throw new DriverError(
        'driver_missing',
        driver,
        `${entry} needs the package \`${driver}\`, which is not installed: run \`npm install ${driver}\``,
        { cause: e },
      );
    }
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new DriverError(
      'driver_failed',
      driver,
      `${entry} could not load \`${driver}\` (${why}): reinstall it for this Node version with \`npm rebuild ${driver}\``,
      { cause: e },
    );
  }
}
