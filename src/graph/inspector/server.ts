/** `serveInspector`: the live task-tree inspector's HTTP server on `node:http`. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { taskTreeToDot } from '../taskTree.js';
import { EventHistory, type InspectorEventSource, listenToEvents } from './events.js';
import { GraphvizError, renderDotSvg } from './graphviz.js';
import { buildSnapshot, type InspectorSource, taskDetail } from './model.js';
import { INSPECTOR_CSS, INSPECTOR_HTML } from './page.js';
import { INSPECTOR_JS } from './pageScript.js';
import {
  BodyTooLargeError,
  decodePathPart,
  hostAllowed,
  LOOPBACK_HOSTS,
  readBodyWithin,
} from './requestGuards.js';
import { SseHub } from './sse.js';

/** Options of {@link serveInspector}. */
export interface InspectorOptions {
  /** TCP port; default 0 (any free port). */
  port?: number;
  /** Interface to bind; default `127.0.0.1` (loopback only). */
  host?: string;
  /** The cancel token; default 32 random bytes, base64url. */
  token?: string;
  /** Where custom events come from (see `createEventTap`); without it nodes show status only. */
  events?: InspectorEventSource;
  /** How often a stream flushes its coalesced changes; default 50 ms. */
  batchMs?: number;
  /** Clock for event timestamps; default `Date.now`. */
  now?: () => number;
  /** Most `/events` streams open at once; one more is answered 503. Default 32. */
  maxClients?: number;
  /**
   * Most bytes a stream may have unsent (its socket's `writableLength`) while making no progress
   * for `stallMs`; past that the client is dropped. Default 1 MiB.
   */
  maxBufferedBytes?: number;
  /** How long a stream over `maxBufferedBytes` may go without its unsent bytes shrinking. Default 2 000 ms. */
  stallMs?: number;
  /** Time allowed to receive a request's headers (Node's `headersTimeout`). Default 10 000 ms. */
  headersTimeoutMs?: number;
  /** Time allowed to receive a whole request (Node's `requestTimeout`). Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Largest accepted request body (`POST /cancel`); a larger one is answered 413. Default 4 096 bytes. */
  maxBodyBytes?: number;
  /**
   * Host names (no port) accepted in the `Host` header besides `localhost`, `127.0.0.1` and `::1`,
   * e.g. the name of a reverse proxy. Setting it also turns the `Host` check on for a non-loopback bind.
   */
  allowedHosts?: readonly string[];
}

/** A running inspector. */
export interface InspectorServer {
  /** The page, e.g. `http://127.0.0.1:4477/`. Open `${url}#token=${token}` to enable the cancel buttons. */
  url: string;
  /** The per-run cancel token (send it as the `x-inspector-token` header of `POST /cancel`). */
  token: string;
  /**
   * Ends every stream, stops listening, and resolves once the server is closed.
   *
   * @example
   * const inspector = await serveInspector(supervisor);
   * await inspector.close();
   */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Constant-time token comparison (hashing first makes the lengths equal).
 *
 * @example
 * tokenMatches(req.headers['x-inspector-token'], token); // false for a missing header
 */
export function tokenMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given === '') return false;
  return timingSafeEqual(digest(given), digest(expected));
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy':
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  });
  res.end(body);
}

const json = (res: ServerResponse, status: number, value: unknown): void =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

/**
 * Serves the live task-tree inspector of `supervisor`: one self-contained page (no CDN), JSON
 * endpoints, a Server-Sent Events stream of `TaskChange`s batched per 50 ms, a Graphviz SVG per
 * thread, and `POST /cancel` (cancels a subtree; needs the per-run token, else 403).
 * Binds `127.0.0.1` by default; on a loopback bind, requests whose `Host` is not a loopback name
 * (or one of `allowedHosts`) are refused 403 (DNS-rebinding guard).
 *
 * Bounds: at most `maxClients` streams (503 beyond); a stream whose unsent bytes stay above
 * `maxBufferedBytes` without shrinking for `stallMs` is dropped, so clients that do not read cannot
 * pin snapshots in memory; headers must arrive within `headersTimeoutMs` and the whole request
 * within `requestTimeoutMs`; a body over `maxBodyBytes` is answered 413; a malformed `%`-escape in
 * a path is answered 400.
 *
 * Endpoints: `GET /` page · `GET /api/threads` snapshot · `GET /api/tasks/:id` details ·
 * `GET /api/threads/:thread/graph.svg` · `GET /events` SSE · `POST /cancel` `{"task_id"}`.
 *
 * @example
 * const tap = createEventTap();
 * const supervisor = createTaskSupervisor({ ownerInbox: tap.sink() });
 * const inspector = await serveInspector(supervisor, { port: 4477, events: tap.subscribe });
 * console.log(`open ${inspector.url}#token=${inspector.token}`);
 * // … later
 * await inspector.close();
 */
export async function serveInspector(
  supervisor: InspectorSource,
  options: InspectorOptions = {},
): Promise<InspectorServer> {
  const { port = 0, host = '127.0.0.1', batchMs = 50, now = Date.now } = options;
  const maxClients = positive(options.maxClients, 32, 'maxClients');
  const maxBodyBytes = positive(options.maxBodyBytes, 4096, 'maxBodyBytes');
  const token = options.token ?? randomBytes(32).toString('base64url');
  if (token === '') throw new TypeError('Expected `token` to be a non-empty string');
  const history = new EventHistory();
  const hub = new SseHub(supervisor, history, batchMs, {
    maxBufferedBytes: positive(options.maxBufferedBytes, 1024 * 1024, 'maxBufferedBytes'),
    stallMs: positive(options.stallMs, 2000, 'stallMs'),
  });
  const stopEvents =
    options.events === undefined
      ? () => {}
      : listenToEvents(options.events, (event) => hub.publishEvent(history.add(event, now())));
  const checkHost = LOOPBACK.has(host) || options.allowedHosts !== undefined;
  const allowed = new Set([...LOOPBACK_HOSTS, ...(options.allowedHosts ?? []).map((h) => h.toLowerCase())]);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://inspector.invalid');
    if (checkHost && !hostAllowed(req.headers.host, allowed)) {
      return json(res, 403, { error: 'host not allowed' });
    }
    const path = url.pathname;
    if (req.method === 'POST' && path === '/cancel') return cancel(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    if (path === '/') return send(res, 200, 'text/html; charset=utf-8', INSPECTOR_HTML);
    if (path === '/app.js') return send(res, 200, 'text/javascript; charset=utf-8', INSPECTOR_JS);
    if (path === '/app.css') return send(res, 200, 'text/css; charset=utf-8', INSPECTOR_CSS);
    if (path === '/events') {
      if (hub.size >= maxClients) {
        res.setHeader('retry-after', '5');
        return json(res, 503, { error: 'too many event streams' });
      }
      return hub.open(req, res);
    }
    if (path === '/api/threads') return json(res, 200, buildSnapshot(supervisor, history));
    const task = /^\/api\/tasks\/([^/]+)$/.exec(path);
    if (task) {
      const id = decodePathPart(task[1]!);
      if (id === undefined) return json(res, 400, { error: 'malformed %-escape in path' });
      const detail = taskDetail(supervisor, history, id);
      return detail ? json(res, 200, detail) : json(res, 404, { error: 'unknown task' });
    }
    const graph = /^\/api\/threads\/([^/]+)\/graph\.svg$/.exec(path);
    if (graph) {
      const thread = decodePathPart(graph[1]!);
      if (thread === undefined) return json(res, 400, { error: 'malformed %-escape in path' });
      try {
        const svg = await renderDotSvg(taskTreeToDot(supervisor.list(thread)));
        return send(res, 200, 'image/svg+xml; charset=utf-8', svg);
      } catch (e) {
        return json(res, e instanceof GraphvizError ? 501 : 500, { error: String((e as Error).message) });
      }
    }
    return json(res, 404, { error: 'not found' });
  };

  const cancel = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const auth = req.headers.authorization;
    const given =
      req.headers['x-inspector-token'] ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
    if (!tokenMatches(given, token)) return json(res, 403, { error: 'missing or wrong token' });
    if (typeof supervisor.cancelTree !== 'function') return json(res, 409, { error: 'read-only source' });
    let taskId: unknown;
    try {
      taskId = (JSON.parse(await readBodyWithin(req, maxBodyBytes)) as { task_id?: unknown } | null)?.task_id;
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        // Closing after the answer stops the client reusing a connection whose body is being discarded.
        res.setHeader('connection', 'close');
        return json(res, 413, { error: e.message });
      }
      return json(res, 400, { error: 'expected a JSON body {"task_id": "…"}' });
    }
    if (typeof taskId !== 'string' || supervisor.get(taskId) === undefined) {
      return json(res, 404, { error: 'unknown task' });
    }
    return json(res, 200, { task_id: taskId, signalled: supervisor.cancelTree(taskId) });
  };

  // Node's defaults (60 s for headers, 300 s per request, checked every 30 s) let slow clients hold
  // sockets for minutes.
  const headersTimeout = positive(options.headersTimeoutMs, 10_000, 'headersTimeoutMs');
  const requestTimeout = Math.max(
    headersTimeout,
    positive(options.requestTimeoutMs, 30_000, 'requestTimeoutMs'),
  );
  const timeouts = {
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
  };
  const server = createServer(timeouts, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { error: String((e as Error)?.message ?? e) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${addr.port}/`,
    token,
    close() {
      closing ??= new Promise<void>((resolve) => {
        stopEvents();
        hub.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new TypeError(`Expected \`${what}\` to be a positive number, got ${String(value)}`);
  }
  return value;
}
