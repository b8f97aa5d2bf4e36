import type { TaskEvent, TaskSummary } from '../../src/wire/types.js';
import { afterEach, beforeAll } from 'vitest';
import { buildDist, type Child, startChild, untilChild } from '../fixtures/childProcess.js';

export type Line = { t: string; [k: string]: unknown };
export type Reply = Line & { error?: string };

/**
 * A replica child process (test/fixtures/replica-child.mjs, or any fixture speaking its protocol:
 * `{cmd, id, …}` lines in, `{t: 'reply', id, …}` lines out) and a request/reply channel to it.
 */
export class Replica {
  #next = 0;
  constructor(readonly child: Child) {}
  get lines(): Line[] {
    return this.child.lines as Line[];
  }
  /**
   * Sends `cmd` and resolves with its reply, an `error` in it included. Rejects after `timeoutMs`,
   * or at once when the process has ended without replying.
   */
  async call<T = Reply>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    const id = ++this.#next;
    this.child.send({ cmd, id, ...args });
    let reply: Line | undefined;
    await untilChild(
      this.child,
      () => (reply = this.lines.find((l) => l.t === 'reply' && l.id === id)) !== undefined,
      timeoutMs,
      `the reply to ${cmd}`,
    );
    return reply as T;
  }
  /** Like `call`, but a reply with an `error` rejects with it. */
  async callOk<T = Reply>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    const reply = await this.call<Reply>(cmd, args, timeoutMs);
    if (typeof reply.error === 'string') throw new Error(`${cmd}: ${reply.error}`);
    return reply as T;
  }
  /** The `epoch` of its `ready` line (the store's first epoch). */
  get readyEpoch(): string {
    return String(this.lines.find((l) => l.t === 'ready')?.epoch ?? '');
  }
  async spawn(args: Record<string, unknown>): Promise<string> {
    const r = await this.call<Reply & { task?: string }>('spawn', args);
    if (r.task === undefined) throw new Error(`spawn failed: ${r.error}`);
    return r.task;
  }
  async get(task: string): Promise<TaskSummary | null> {
    return (await this.call<{ summary: TaskSummary | null }>('get', { task })).summary;
  }
  async drain(): Promise<TaskEvent[]> {
    return (await this.call<{ events: TaskEvent[] }>('drain')).events;
  }
  async epoch(): Promise<string> {
    return (await this.call<{ epoch: string }>('stats')).epoch;
  }
  seen(t: string, task?: string): Line[] {
    return this.lines.filter((l) => l.t === t && (task === undefined || l.task === task));
  }
  /** The replica events (`supervisor.onReplicaEvent`) it reported, of `type` or all. */
  replicaEvents(type?: string): Line[] {
    return this.lines.filter((l) => l.t === 'replica' && (type === undefined || l.type === type));
  }
  warnings(): string[] {
    return this.lines.filter((l) => l.t === 'warning').map((l) => String(l.message));
  }
}

/**
 * The replica child processes of a describe block. The package is built once before all
 * (`buildDist(name)`); after each test every child started is killed (SIGCONT first, so a
 * SIGSTOPped one dies too) and reaped.
 */
export interface ReplicaChildren {
  /**
   * Starts `test/fixtures/<fixture>` with `env` (and AWAKEN_DIST) and waits until it is ready
   * (rejecting at once, with its stderr, if it dies first).
   */
  launch(fixture: string, env: Record<string, string>): Promise<Replica>;
  /**
   * Starts a replica-child.mjs on `table` at `url` (a 30 s lease, a 100 ms poll: `env` overrides)
   * and waits until it is ready.
   */
  start(url: string, table: string, env?: Record<string, string>): Promise<Replica>;
}

export function replicaChildren(name: string): ReplicaChildren {
  let dist = '';
  let running: Replica[] = [];
  beforeAll(() => {
    dist = buildDist(name);
  }, 120_000);
  afterEach(async () => {
    for (const r of running) {
      r.child.proc.kill('SIGCONT');
      r.child.proc.kill('SIGKILL');
    }
    await Promise.all(running.map((r) => r.child.closed.catch(() => undefined)));
    running = [];
  });
  const launch = async (fixture: string, env: Record<string, string>) => {
    const r = new Replica(startChild(fixture, { AWAKEN_DIST: dist, ...env }));
    running.push(r);
    await untilChild(r.child, () => r.lines.some((l) => l.t === 'ready'), 30_000, 'the replica to be ready');
    return r;
  };
  return {
    launch,
    start: (url, table, env = {}) =>
      launch('replica-child.mjs', {
        DATABASE_URL: url,
        TABLE: table,
        LEASE_MS: '30000',
        POLL_MS: '100',
        ...env,
      }),
  };
}

/**
 * Checks what a thread's receiver got: per task, its custom events `progress {i: 0..n-1}` in order,
 * each once, then exactly one terminal event last. Returns the terminal event per task.
 */
export function checkStreams(
  events: readonly TaskEvent[],
  customPerTask: ReadonlyMap<string, number>,
): Map<string, TaskEvent> {
  const byTask = new Map<string, TaskEvent[]>();
  for (const e of events) {
    const list = byTask.get(e.task_id) ?? [];
    list.push(e);
    byTask.set(e.task_id, list);
  }
  const terminals = new Map<string, TaskEvent>();
  for (const [task, n] of customPerTask) {
    const got = byTask.get(task) ?? [];
    const custom = got.filter((e) => e.kind === 'custom');
    const want = Array.from({ length: n }, (_, i) => ({ i }));
    const payloads = custom.map((e) => (e as { payload: unknown }).payload);
    if (JSON.stringify(payloads) !== JSON.stringify(want))
      throw new Error(
        `task ${task}: custom events ${JSON.stringify(payloads)}, expected ${n} in order, once`,
      );
    const rest = got.filter((e) => e.kind !== 'custom');
    if (rest.length !== 1 || got.at(-1) !== rest[0])
      throw new Error(`task ${task}: expected one terminal event last, got ${JSON.stringify(got.slice(-3))}`);
    terminals.set(task, rest[0]!);
  }
  return terminals;
}
