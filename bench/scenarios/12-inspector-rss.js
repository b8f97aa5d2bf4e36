// 12. Inspector server RSS with 60 SSE clients that never read, over a ~5 MB snapshot (as in the
// issue; a few MB of each client's snapshot sit in kernel socket buffers, which RSS does not count). Ours: the
// default bounds (32 streams, chunked shared snapshot, a stream stalled above 1 MiB for 2 s is
// dropped). Baseline: a stand-in of the inspector before (lib/inspectorChild.js "old": each client
// gets its own full snapshot written at once, no cap). The server runs in a child process; RSS is
// read 12 s after the clients connect, after a full GC. Also: the idle server, and the bytes held
// in Buffers (arrayBuffers, where unsent stream data lives).
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { row } from '../lib/measure.js';

export const id = 12;
export const title = 'inspector RSS, 60 non-reading clients';

const CHILD = fileURLToPath(new URL('../lib/inspectorChild.js', import.meta.url));

function ask(child, msg, key) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m && key in m) {
        child.off('message', on);
        resolve(m[key]);
      }
    };
    child.on('message', on);
    if (msg !== undefined) child.send(msg);
  });
}

/** Server RSS (MB): idle, then `clients` s after non-reading clients connect. */
async function measure(mb, clients, options, waitMs) {
  const child = fork(CHILD, [String(mb), options === 'old' ? 'old' : JSON.stringify(options)], {
    execArgv: ['--expose-gc'],
  });
  try {
    const url = new URL(await ask(child, undefined, 'url'));
    const idle = await ask(child, 'rss', 'rss');
    const sockets = [];
    for (let i = 0; i < clients; i++) {
      const s = connect(Number(url.port), url.hostname, () => {
        s.pause();
        s.write(`GET /events HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
      });
      s.on('error', () => {});
      sockets.push(s);
    }
    await new Promise((r) => setTimeout(r, waitMs));
    const loaded = await ask(child, 'rss', 'rss');
    for (const s of sockets) s.destroy();
    const MB = 2 ** 20;
    return { idle: idle.rss / MB, loaded: loaded.rss / MB, unsent: loaded.arrayBuffers / MB };
  } finally {
    child.send('exit');
    await new Promise((r) => child.once('exit', r));
  }
}

export async function run({ trials, scale }) {
  const mb = Math.max(1, 5 * scale);
  const clients = 60;
  const n = Math.max(1, Math.min(trials, 2)); // each trial takes ~13 s per side
  const ours = [];
  const lifted = [];
  const idle = [];
  const unsent = { baseline: [], ours: [] };
  for (let i = 0; i < n; i++) {
    const b = await measure(mb, clients, 'old', 12_000);
    const o = await measure(mb, clients, {}, 12_000);
    lifted.push(b.loaded);
    ours.push(o.loaded);
    idle.push(o.idle);
    unsent.baseline.push(b.unsent);
    unsent.ours.push(Math.max(o.unsent, 0.01));
  }
  return [
    row({
      scenario: `12 inspector RSS, ${clients} non-reading SSE clients, ${mb} MB snapshot: bounded vs before`,
      metric: 'rss',
      unit: 'MB',
      better: 'lower',
      baseline: lifted,
      ours,
      baselineLabel: 'before',
      oursLabel: 'bounded',
      target: { op: '<=', value: 0.5, label: '1/2' },
    }),
    row({
      scenario: `12 inspector unsent buffers (arrayBuffers), ${clients} non-reading clients: bounded vs before`,
      metric: 'arrayBuffers',
      unit: 'MB',
      better: 'lower',
      ...unsent,
      baselineLabel: 'before',
      oursLabel: 'bounded',
      target: { op: '<=', value: 0.1, label: '1/10' },
    }),
    row({
      scenario: `12 inspector RSS, ${clients} non-reading SSE clients: bounded vs idle server`,
      metric: 'rss',
      unit: 'MB',
      better: 'lower',
      baseline: idle,
      ours,
      baselineLabel: 'idle',
      oursLabel: 'bounded',
      target: { op: '<=', value: 1.5, label: '1.5×' },
    }),
  ];
}
