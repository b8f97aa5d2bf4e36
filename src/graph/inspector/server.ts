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
}

/** A running inspector. */
export interface InspectorServer {
  /** The page, e.g. `http://127.0.0.1:4477/`. Open `${url}#token=${token}` to enable the cancel buttons. */
  url: string;
  /** The per-run cancel token (send it as the `x-inspector-token` header of `POST /cancel`). */
  token: string;
  /** Ends every stream, stops listening, and resolves once the server is closed. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const MAX_BODY = 4096;

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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_BODY) {
        reject(new RangeError('body too large'));
        req.destroy();
      } else parts.push(b);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Serves the live task-tree inspector of `supervisor`: one self-contained page (no CDN), JSON
 * endpoints, a Server-Sent Events stream of `TaskChange`s batched per 50 ms, a Graphviz SVG per
 * thread, and `POST /cancel` (cancels a subtree; needs the per-run token, else 403).
 * Binds `127.0.0.1` by default; on a loopback bind, requests whose `Host` is not a loopback name
 * are refused (DNS-rebinding guard).
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
  const token = options.token ?? randomBytes(32).toString('base64url');
  if (token === '') throw new TypeError('Expected `token` to be a non-empty string');
  const history = new EventHistory();
  const hub = new SseHub(supervisor, history, batchMs);
  const stopEvents =
    options.events === undefined
      ? () => {}
      : listenToEvents(options.events, (event) => hub.publishEvent(history.add(event, now())));
  const loopbackOnly = LOOPBACK.has(host);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://inspector.invalid');
    if (loopbackOnly && !LOOPBACK.has(hostnameOf(req.headers.host))) {
      return json(res, 403, { error: 'host not allowed' });
    }
    const path = url.pathname;
    if (req.method === 'POST' && path === '/cancel') return cancel(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    if (path === '/') return send(res, 200, 'text/html; charset=utf-8', INSPECTOR_HTML);
    if (path === '/app.js') return send(res, 200, 'text/javascript; charset=utf-8', INSPECTOR_JS);
    if (path === '/app.css') return send(res, 200, 'text/css; charset=utf-8', INSPECTOR_CSS);
    if (path === '/events') return hub.open(req, res);
    if (path === '/api/threads') return json(res, 200, buildSnapshot(supervisor, history));
    const task = /^\/api\/tasks\/([^/]+)$/.exec(path);
    if (task) {
      const detail = taskDetail(supervisor, history, decodeURIComponent(task[1]!));
      return detail ? json(res, 200, detail) : json(res, 404, { error: 'unknown task' });
    }
    const graph = /^\/api\/threads\/([^/]+)\/graph\.svg$/.exec(path);
    if (graph) {
      try {
        const svg = await renderDotSvg(taskTreeToDot(supervisor.list(decodeURIComponent(graph[1]!))));
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
      taskId = (JSON.parse(await readBody(req)) as { task_id?: unknown } | null)?.task_id;
    } catch {
      return json(res, 400, { error: 'expected a JSON body {"task_id": "…"}' });
    }
    if (typeof taskId !== 'string' || supervisor.get(taskId) === undefined) {
      return json(res, 404, { error: 'unknown task' });
    }
    return json(res, 200, { task_id: taskId, signalled: supervisor.cancelTree(taskId) });
  };

  const server = createServer((req, res) => {
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

/** The host name of a `Host` header (`127.0.0.1:4477` → `127.0.0.1`, `[::1]:80` → `[::1]`). */
function hostnameOf(header: string | undefined): string {
  if (header === undefined) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const colon = header.indexOf(':');
  return (colon === -1 ? header : header.slice(0, colon)).toLowerCase();
}
