/**
 * The inspector's command implementations, registered by `src/cli/serveCommand.ts`:
 * `awaken-tasks demo --serve PORT` (a live scripted agent under the inspector) and
 * `awaken-tasks serve --db FILE [--port N]` (a SQLite store, read by polling).
 */
import { existsSync } from 'node:fs';
import { CliError, oneLine } from '../../cli/errors.js';
import { SqliteTaskStore } from '../../stores/sqlite/index.js';
import { createTaskSupervisor } from '../../supervisor/createTaskSupervisor.js';
import { runInspectorScenario } from './demoScenario.js';
import { supervisorEvents } from './events.js';
import { type InspectorServer, serveInspector } from './server.js';
import { createStoreSource } from './storeSource.js';

/** Where the commands print, and how tests stop them. */
export interface InspectorCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Stops the command (default: the first SIGINT or SIGTERM). */
  signal?: AbortSignal;
  /** Called once the server listens (tests use it to find the URL). */
  onListening?: (server: InspectorServer) => void;
}

/** Resolves at the first SIGINT/SIGTERM, or when `signal` aborts. */
function untilStopped(signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', done, { once: true });
    if (signal === undefined) {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    }
  });
}

async function listen(
  start: () => Promise<InspectorServer>,
  port: number,
  host: string,
): Promise<InspectorServer> {
  try {
    return await start();
  } catch (e) {
    throw new CliError(`cannot listen on ${host}:${port}: ${oneLine(e)}`);
  }
}

function announce(io: InspectorCliIo, server: InspectorServer, what: string, canCancel: boolean): void {
  io.stdout(`awaken-tasks inspector · ${what}\n`);
  io.stdout(`  open   ${canCancel ? `${server.url}#token=${server.token}` : server.url}\n`);
  if (canCancel) io.stdout(`  cancel token (this run only): ${server.token}\n`);
  io.stdout('  Ctrl-C to stop\n');
  io.onListening?.(server);
}

/** Options of {@link runServedDemo}. */
export interface ServedDemoOptions {
  port: number;
  host?: string;
  /** SQLite file that keeps the tasks; its threads are restored first (orphans shown failed). */
  db?: string;
  /** Time between rounds of the scenario; default 12 000 ms. */
  roundMs?: number;
}

/**
 * `awaken-tasks demo --serve PORT`: a supervisor running the scripted scenario, its inspector on
 * `host:port`, until stopped; then everything is cancelled, flushed and closed.
 *
 * @example
 * await runServedDemo({ port: 4477 }, { stdout: console.log, stderr: console.error });
 */
export async function runServedDemo(opts: ServedDemoOptions, io: InspectorCliIo): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  let store: SqliteTaskStore | undefined;
  try {
    if (opts.db !== undefined) store = new SqliteTaskStore(opts.db);
  } catch (e) {
    throw new CliError(`cannot open ${opts.db}: ${oneLine(e)}`);
  }
  const sup = createTaskSupervisor({
    cancelGraceMs: 3000,
    ...(store ? { store } : {}),
  });
  const stop = new AbortController();
  let server: InspectorServer | undefined;
  try {
    if (store) {
      const threads = new Set((await store.load()).map((r) => r.owner_thread_id));
      for (const t of threads) await sup.loadThread(t);
    }
    server = await listen(
      () => serveInspector(sup, { port: opts.port, host, events: supervisorEvents(sup) }),
      opts.port,
      host,
    );
    announce(io, server, `live demo${opts.db ? ` · ${opts.db}` : ''}`, true);
    const scenario = runInspectorScenario(sup, {
      signal: stop.signal,
      ...(opts.roundMs === undefined ? {} : { roundMs: opts.roundMs }),
    });
    await untilStopped(io.signal);
    stop.abort();
    await scenario;
  } finally {
    stop.abort();
    await server?.close();
    await sup.stop();
    await store?.close();
  }
}

/** Options of {@link runServeStore}. */
export interface ServeStoreOptions {
  db: string;
  port: number;
  host?: string;
  /** How often the store is re-read; default 500 ms. */
  pollMs?: number;
}

/**
 * `awaken-tasks serve --db FILE`: the inspector over a SQLite store another process writes, read by
 * polling (read-only: no cancel button, no custom events). A missing file is an error, never created.
 *
 * @example
 * await runServeStore({ db: './awaken-tasks.db', port: 4477 }, { stdout: console.log, stderr: console.error });
 */
export async function runServeStore(opts: ServeStoreOptions, io: InspectorCliIo): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  if (!existsSync(opts.db)) throw new CliError(`cannot open ${opts.db}: no such file`);
  let store: SqliteTaskStore;
  try {
    // Read-only: no owner lock, so it runs beside the process that owns and writes the file.
    store = new SqliteTaskStore(opts.db, { readonly: true });
  } catch (e) {
    throw new CliError(`cannot open ${opts.db}: ${oneLine(e)}`);
  }
  let warned = false;
  try {
    const source = await createStoreSource(store, {
      pollMs: opts.pollMs ?? 500,
      onError: (e) => {
        if (!warned) io.stderr(`awaken-tasks: warning: cannot read ${opts.db}: ${oneLine(e)}\n`);
        warned = true;
      },
    }).catch((e: unknown) => {
      throw new CliError(`cannot read ${opts.db}: ${oneLine(e)}`);
    });
    try {
      const server = await listen(() => serveInspector(source, { port: opts.port, host }), opts.port, host);
      announce(io, server, `${opts.db} (read-only, polled every ${opts.pollMs ?? 500} ms)`, false);
      await untilStopped(io.signal);
      await server.close();
    } finally {
      source.close();
    }
  } finally {
    await store.close();
  }
}
