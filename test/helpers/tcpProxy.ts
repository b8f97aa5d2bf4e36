import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A TCP proxy for tests: forwards every connection to `target`. `freeze()` makes every connection
 * open at that moment half-open: bytes in both directions are swallowed and neither side is
 * closed, as when a network path dies silently. Connections made later are forwarded as usual.
 */
export interface TcpProxy {
  readonly port: number;
  /** Connections frozen so far. */
  readonly frozen: number;
  /** Freezes every open connection, or only those whose client sent `match` (e.g. `LISTEN`). */
  freeze(match?: string): void;
  /** Closes every connection and refuses new ones (the database unreachable) until `unblock`. */
  block(): void;
  unblock(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const live = new Set<{ client: Socket; upstream: Socket; frozen: boolean; sent: string }>();
  let frozen = 0;
  let blocked = false;
  const server: Server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    const pair = { client, upstream, frozen: false, sent: '' };
    live.add(pair);
    client.on('data', (b) => {
      if (pair.sent.length < 65_536) pair.sent += b.toString('latin1');
      if (!pair.frozen) upstream.write(b);
    });
    upstream.on('data', (b) => {
      if (!pair.frozen) client.write(b);
    });
    const end = () => {
      live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    get frozen() {
      return frozen;
    },
    freeze(match?: string) {
      for (const pair of live) {
        if (pair.frozen || (match !== undefined && !pair.sent.includes(match))) continue;
        pair.frozen = true;
        frozen++;
        // Leave both sockets open, but stop reading the client so its writes pile up unanswered.
        pair.client.pause();
      }
    },
    block() {
      blocked = true;
      for (const pair of live) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
    },
    unblock() {
      blocked = false;
    },
    async close() {
      for (const pair of live) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
