import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest PostgreSQL server binaries on this machine (Debian layout), if any. */
export function pgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(`${root}/${v}/bin/pg_ctl`))
    .sort((a, b) => Number(a) - Number(b));
  const v = versions.at(-1);
  return v === undefined ? undefined : `${root}/${v}/bin`;
}

/** Why a test cannot start its own cluster here, or `undefined` when it can. */
export function clusterUnavailable(): string | undefined {
  if (pgBinDir() === undefined) return 'PostgreSQL server binaries (/usr/lib/postgresql/*/bin) not found';
  if (process.getuid?.() !== 0) return 'starting a cluster needs root (to run the server as user postgres)';
  return undefined;
}

/**
 * A throw-away PostgreSQL cluster of one test file, on its own port and data directory (never the
 * shared one), that the test may stop, start and restart at will.
 */
export interface OwnCluster {
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop -m fast`: every connection is closed, the server is down until `start`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server for good and removes its data directory. */
  destroy(): Promise<void>;
}

async function asPostgres(cmd: string): Promise<string> {
  const { stdout } = await run('su', ['postgres', '-c', cmd], { timeout: 60_000 });
  return stdout;
}

/**
 * A port for a cluster, below the kernel's ephemeral range: a port in that range can be taken by
 * any outgoing connection's local end while the test has its server stopped, and the restart then
 * fails to bind it.
 */
function clusterPort(): number {
  let low = 32_768; // Linux's default
  try {
    const read = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    if (Number.isSafeInteger(read) && read > 2_048) low = Math.min(read, low);
  } catch {
    // Not Linux: keep the default.
  }
  const from = Math.max(1_024, low - 12_000);
  return from + Math.floor(Math.random() * (low - from));
}

export async function startOwnCluster(name: string): Promise<OwnCluster> {
  const bin = pgBinDir();
  if (bin === undefined) throw new Error('PostgreSQL binaries not found');
  // A port another listener holds fails the first start: try another one (a few times).
  for (let tries = 1; ; tries++) {
    try {
      return await startOn(bin, name, clusterPort());
    } catch (e) {
      if (tries >= 4) throw e;
    }
  }
}

async function startOn(bin: string, name: string, port: number): Promise<OwnCluster> {
  const data = `/tmp/awaken-${name}-${process.pid}-${port}`;
  await run('rm', ['-rf', data]);
  await run('mkdir', ['-p', data]);
  await run('chown', ['postgres:postgres', data]);
  await asPostgres(`${bin}/initdb -D ${data} -A trust -U postgres >/dev/null`);
  const opts = `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () => asPostgres(`${bin}/pg_ctl -D ${data} -o '${opts}' -l ${data}/log -w start >/dev/null`);
  try {
    await start();
  } catch (e) {
    await run('rm', ['-rf', data]);
    throw e;
  }
  await asPostgres(`${bin}/psql -h 127.0.0.1 -p ${port} -U postgres -c 'create database awaken' >/dev/null`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/awaken`,
    port,
    stop: async () => {
      await asPostgres(`${bin}/pg_ctl -D ${data} -m fast -w stop >/dev/null`);
    },
    start: async () => {
      await start();
    },
    destroy: async () => {
      await asPostgres(`${bin}/pg_ctl -D ${data} -m immediate -w stop >/dev/null 2>&1 || true`);
      await run('rm', ['-rf', data]);
    },
  };
}
