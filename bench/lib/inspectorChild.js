// A child process serving the inspector over a read-only source whose snapshot is ~`mb` MB, so the
// bench can read the server's RSS apart from its clients'. argv: mb, then the options as JSON, or
// "old" for a stand-in of the inspector before its bounds (every /events client gets its own full
// snapshot written at once, whether or not it reads; no cap on clients).
// IPC: sends { url } once listening; answers 'rss' with { rss: { rss, arrayBuffers } } (after a full
// GC; arrayBuffers holds the unsent stream data); 'exit' closes.
import { createServer } from 'node:http';
import { serveInspector } from '../../dist/src/graph/index.js';
import { EventHistory } from '../../dist/src/graph/inspector/events.js';
import { buildSnapshot } from '../../dist/src/graph/inspector/model.js';

const mb = Number(process.argv[2] ?? 5);
const old = process.argv[3] === 'old';
const options = old ? {} : JSON.parse(process.argv[3] ?? '{}');
const tasks = Math.max(1, Math.round((mb * 1e6) / 10_000));
const summaries = [];
for (let i = 0; i < tasks; i++) {
  summaries.push({
    task_id: `bg_${i}`,
    task_type: 'fetch',
    // ~10 000 bytes per task in the snapshot (the label cuts the description to 80 chars).
    description: `${i}:`.padEnd(10_000, 'x'),
    status: 'running',
    created_at_ms: 1,
  });
}
const metas = Object.fromEntries(
  summaries.map((s) => [s.task_id, { ...s, owner_thread_id: 'main', parent_context: {} }]),
);
const source = {
  get: (id) => summaries[Number(id.slice(3))],
  list: (thread) => (thread === 'main' ? summaries : []),
  subscribe: () => () => {},
  persistedSnapshot: () => metas,
};
function serveOld() {
  const history = new EventHistory();
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(buildSnapshot(source, history))}\n\n`);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}/`,
        close: () =>
          new Promise((r) => {
            server.close(r);
            server.closeAllConnections();
          }),
      }),
    ),
  );
}
const server = old ? await serveOld() : await serveInspector(source, options);
process.on('message', async (m) => {
  if (m === 'rss') {
    globalThis.gc?.();
    const { rss, arrayBuffers } = process.memoryUsage();
    process.send({ rss: { rss, arrayBuffers } });
  } else if (m === 'exit') {
    await server.close();
    process.exit(0);
  }
});
process.send({ url: server.url });
