import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A TCP proxy to the database whose `loseReplies()` swallows, on the connection that next sends
 * `match`, everything the server answers from then on: the statement runs and commits, its
 * client never hears of it (until `cut()` closes that connection, as a dying network would).
 */
export async function replyLosingProxy(url: URL) {
  const pairs = new Set<{ client: Socket; upstream: Socket; deaf: boolean }>();
  let armed: string | undefined;
  let victim: { client: Socket; upstream: Socket; deaf: boolean } | undefined;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(url.port || 5432), url.hostname);
    const pair = { client, upstream, deaf: false };
    pairs.add(pair);
    client.on('data', (b) => {
      if (armed !== undefined && b.toString('latin1').includes(armed)) {
        armed = undefined;
        pair.deaf = true;
        victim = pair;
      }
      upstream.write(b);
    });
    upstream.on('data', (b) => {
      if (!pair.deaf) client.write(b);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const proxied = new URL(url.href);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(typeof address === 'object' && address !== null ? address.port : 0);
  return {
    url: proxied.href,
    loseReplies(match: string) {
      armed = match;
    },
    get lost() {
      return victim !== undefined;
    },
    cut() {
      victim?.client.destroy();
      victim?.upstream.destroy();
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
