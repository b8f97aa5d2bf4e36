import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { serveInspector, type InspectorOptions, type InspectorServer } from '../../src/graph/index.js';
import type { InspectorSource } from '../../src/graph/inspector/model.js';
import { parseHostHeader } from '../../src/graph/inspector/requestGuards.js';
import type { TaskChange } from '../../src/supervisor/types.js';
import type { PersistedTaskMeta, TaskSummary } from '../../src/wire/types.js';
import { until } from '../helpers/async.js';
import { http, openSse } from './inspectorHelpers.js';

/** A read-only source of `n` running tasks on thread `main`, each with a `bytes`-long description. */
function bigSource(n: number, bytes: number): InspectorSource & { listeners: Set<(c: TaskChange) => void> } {
  const summaries: TaskSummary[] = [];
  for (let i = 0; i < n; i++) {
    summaries.push({
      task_id: `bg_${i}`,
      task_type: 'fetch',
      description: `${i}:`.padEnd(bytes, 'x'),
      status: 'running',
      created_at_ms: 1,
    });
  }
  const listeners = new Set<(c: TaskChange) => void>();
  return {
    listeners,
    get: (id) => summaries.find((s) => s.task_id === id),
    list: (thread) => (thread === 'main' ? [...summaries] : []),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    persistedSnapshot() {
      const out: Record<string, PersistedTaskMeta> = {};
      for (const s of summaries) {
        out[s.task_id] = {
          ...s,
          owner_thread_id: 'main',
          parent_context: {},
        } as unknown as PersistedTaskMeta;
      }
      return out;
    },
    cancelTree: () => 0,
  };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(source: InspectorSource, opts: InspectorOptions = {}): Promise<InspectorServer> {
  const server = await serveInspector(source, opts);
  cleanups.push(() => server.close());
  return server;
}

/** A raw TCP client; its socket is paused at once, so it never reads what the server sends. */
function nonReader(url: string, path: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.pause();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
      resolve(socket);
    });
    socket.on('error', reject);
    cleanups.push(() => socket.destroy());
  });
}

/** A stream client that reads everything but keeps only the last bytes (a big snapshot stays cheap). */
function byteReader(url: string): { text: () => string } {
  let tail = '';
  let seen = '';
  const req = request(url, (res) => {
    res.setEncoding('latin1').on('data', (d: string) => {
      const window = tail + d.slice(0, 64);
      for (const mark of ['event: snapshot', 'event: batch']) {
        if (window.includes(mark) || d.includes(mark)) seen += `${mark}\n`;
      }
      tail = d.slice(-64);
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  req.end();
  cleanups.push(() => req.destroy());
  return { text: () => seen };
}

describe('inspector bounds (issue 11: a bounded inspector)', () => {
  it('answers 503 to an /events stream beyond maxClients, and accepts one again after a client leaves', async () => {
    const source = bigSource(3, 10);
    const server = await serve(source, { maxClients: 2 });
    const a = openSse(`${server.url}events`);
    const b = openSse(`${server.url}events`);
    cleanups.push(a.close, b.close);
    await Promise.all([a.opened, b.opened]);
    const refused = await http(`${server.url}events`);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(refused.body)).toEqual({ error: 'too many event streams' });
    a.close();
    await until(() => source.listeners.size === 1);
    const c = openSse(`${server.url}events`);
    cleanups.push(c.close);
    expect((await c.opened).event).toBe('snapshot');
  });

  it('drops a client that does not read its snapshot; a reading client on the same server keeps its stream', async () => {
    // ~16 MB of snapshot: more than the loopback socket buffers hold, so unsent bytes stay in the server.
    const source = bigSource(140, 60_000);
    const server = await serve(source, { maxBufferedBytes: 64 * 1024, stallMs: 300 });
    const reader = byteReader(`${server.url}events`);
    await nonReader(server.url, '/events');
    await until(() => reader.text().includes('event: snapshot'), 10_000, 'snapshot');
    // The server ends the non-reader's stream (its listener goes); the reader's stays.
    await until(() => source.listeners.size === 1, 10_000, 'the non-reader dropped');
    // The reader still gets live changes.
    for (const l of source.listeners) {
      l({ type: 'updated', thread_id: 'main', summary: { ...source.get('bg_0')!, status: 'completed' } });
    }
    await until(() => reader.text().includes('event: batch'), 10_000, 'a batch after the drop');
  });

  it('a client connecting after a change gets a snapshot with it (the shared snapshot is not stale)', async () => {
    const source = bigSource(2, 10);
    const server = await serve(source);
    const a = openSse(`${server.url}events`);
    cleanups.push(a.close);
    await a.opened;
    const done = { ...source.get('bg_1')!, status: 'completed' as const, completed_at_ms: 5 };
    const real = source.list;
    source.list = (t) => real(t).map((s) => (s.task_id === 'bg_1' ? done : s));
    for (const l of source.listeners) l({ type: 'updated', thread_id: 'main', summary: done });
    const b = openSse(`${server.url}events`);
    cleanups.push(b.close);
    const snap = (await b.opened).data as { threads: Array<{ nodes: Array<{ summary: TaskSummary }> }> };
    expect(snap.threads[0]!.nodes.find((n) => n.summary.task_id === 'bg_1')?.summary.status).toBe(
      'completed',
    );
  });

  it('answers 413 (not a reset) to a 50 MB body, with or without Content-Length', async () => {
    const server = await serve(bigSource(1, 10));
    const post = (chunked: boolean) =>
      new Promise<number>((resolve, reject) => {
        const total = 50 * 1024 * 1024;
        const headers: Record<string, string> = { 'x-inspector-token': server.token };
        if (!chunked) headers['content-length'] = String(total);
        const req = request(`${server.url}cancel`, { method: 'POST', headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        const chunk = Buffer.alloc(1024 * 1024, 0x61);
        let sent = 0;
        const pump = (): void => {
          while (sent < total) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
    expect(await post(false)).toBe(413);
    expect(await post(true)).toBe(413);
    const small = await http(`${server.url}cancel`, {
      method: 'POST',
      headers: { 'x-inspector-token': server.token },
      body: JSON.stringify({ task_id: 'bg_0' }),
    });
    expect(small.status).toBe(200);
  });

  it('answers 400 to a malformed %-escape in /api/tasks/ and in a graph path', async () => {
    const server = await serve(bigSource(2, 10));
    for (const path of ['api/tasks/%E0%A4%A', 'api/tasks/%zz', 'api/threads/%E0/graph.svg']) {
      const r = await http(`${server.url}${path}`);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toEqual({ error: 'malformed %-escape in path' });
    }
    expect((await http(`${server.url}api/tasks/bg_%31`)).status).toBe(200);
  });

  it('parses Host strictly: loopback names with an optional port only, plus configured names', async () => {
    const server = await serve(bigSource(1, 10));
    const status = async (host: string) =>
      (await http(`${server.url}api/threads`, { headers: { host } })).status;
    for (const ok of ['127.0.0.1', '127.0.0.1:4477', 'localhost', 'LOCALHOST:80', '[::1]', '[::1]:8080']) {
      expect([ok, await status(ok)]).toEqual([ok, 200]);
    }
    for (const bad of [
      '[::1]evil.example',
      '[::1]:80evil',
      'localhost.evil.example',
      '127.0.0.1.evil.example',
      '127.0.0.1:99999',
      '127.0.0.1:80:80',
      'evil.example',
      'inspector.internal',
    ]) {
      expect([bad, await status(bad)]).toEqual([bad, 403]);
    }
    const proxied = await serve(bigSource(1, 10), { allowedHosts: ['Inspector.Internal'] });
    const r = await http(`${proxied.url}api/threads`, { headers: { host: 'inspector.internal:443' } });
    expect(r.status).toBe(200);
    expect(parseHostHeader('[::1]evil.example')).toBeUndefined();
    expect(parseHostHeader('[::1]:80')).toBe('::1');
  });

  it('closes a connection whose headers never finish within headersTimeoutMs', async () => {
    const server = await serve(bigSource(1, 10), { headersTimeoutMs: 300 });
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    cleanups.push(() => socket.destroy());
    let answer = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      answer += d;
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`GET / HTTP/1.1\r\nHost: ${hostname}\r\nX-Slow: `);
    // Node's default would hold this socket for 60 s; the test's own timeout is 5 s.
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('rejects a non-positive bound with a TypeError', async () => {
    await expect(serveInspector(bigSource(1, 1), { maxClients: 0 })).rejects.toThrow(
      'Expected `maxClients` to be a positive number, got 0',
    );
  });
});
