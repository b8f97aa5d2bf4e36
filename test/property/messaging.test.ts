import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createBackgroundTasksPlugin,
  MAX_DURABLE_ATTEMPTS,
  NO_DURABLE_TRANSPORT,
  recoverFailedMessagesTool,
  sendMessageTool,
} from '../../src/agent/index.js';
import type { DurableMessageSink } from '../../src/agent/index.js';
import { createTaskSupervisor } from '../../src/index.js';
import type { TaskSupervisor } from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { assertWithSeed, runsFor } from './seed.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-msg-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const THREADS = ['a', 'b'] as const;
const RECIPIENT = 'recipient';
type Thread = (typeof THREADS)[number];
type Op =
  | { t: 'send'; thread: Thread }
  | { t: 'stepEnd'; thread: Thread }
  | { t: 'sink'; mode: 'up' | 'down' | 'none' }
  | { t: 'replay' | 'clear'; thread: Thread }
  | { t: 'restart' };

const thread = fc.constantFrom(...THREADS);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: thread.map((t) => ({ t: 'send' as const, thread: t })) },
  { weight: 4, arbitrary: thread.map((t) => ({ t: 'stepEnd' as const, thread: t })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('up', 'down', 'none').map((mode) => ({ t: 'sink' as const, mode })),
  },
  { weight: 1, arbitrary: thread.map((t) => ({ t: 'replay' as const, thread: t })) },
  { weight: 1, arbitrary: thread.map((t) => ({ t: 'clear' as const, thread: t })) },
  { weight: 1, arbitrary: fc.constant({ t: 'restart' as const }) },
);

/** The model: where each queued message must be, and what made each dead letter legitimate. */
class World {
  store: SqliteTaskStore;
  supervisor: TaskSupervisor;
  mode: 'up' | 'down' | 'none' = 'up';
  readonly owner = new Map<string, Thread>();
  readonly cleared = new Set<string>();
  /** Failed sink calls per message since it last entered the outbox. */
  readonly failures = new Map<string, number>();
  readonly sink: DurableMessageSink = {
    sendAgentMessage: async (req) => {
      if (this.mode === 'down') {
        this.failures.set(req.message_id, (this.failures.get(req.message_id) ?? 0) + 1);
        throw new Error('sink down');
      }
      return this.store.messages.deliver(req);
    },
  };

  constructor(readonly file: string) {
    this.store = new SqliteTaskStore(file);
    this.supervisor = createTaskSupervisor({ store: this.store });
  }

  async restart(): Promise<void> {
    await this.supervisor.stop();
    await this.store.close();
    this.store = new SqliteTaskStore(this.file);
    this.supervisor = createTaskSupervisor({ store: this.store });
  }

  async apply(o: Op): Promise<void> {
    const ctx = (t: Thread) => ({ threadId: t, agentId: `agent-${t}` });
    switch (o.t) {
      case 'send': {
        const out = await sendMessageTool(this.supervisor).execute(
          { to: { relation: 'agent', thread_id: RECIPIENT }, message: `from ${o.thread}` },
          ctx(o.thread),
        );
        expect(out.ok).toBe(true);
        const data = (out as unknown as { data: { message_id: string; status: string } }).data;
        expect(data.status).toBe('queued');
        this.owner.set(data.message_id, o.thread);
        this.failures.set(data.message_id, 0);
        break;
      }
      case 'stepEnd': {
        const sink = this.mode === 'none' ? {} : { durableSink: this.sink };
        const before = new Map(
          (await this.store.messages.pending(o.thread)).map((e) => [e.id, this.failures.get(e.id) ?? 0]),
        );
        await createBackgroundTasksPlugin(this.supervisor, sink).hooks.stepEnd({ threadId: o.thread });
        // Every entry pending before got exactly one attempt (none with no sink).
        for (const [id, n] of before) {
          const now = this.failures.get(id) ?? 0;
          expect(now - n).toBeLessThanOrEqual(1);
        }
        break;
      }
      case 'sink':
        this.mode = o.mode;
        break;
      case 'replay':
      case 'clear': {
        const listed = (await this.store.messages.deadLetters(o.thread)).map((l) => l.request.message_id);
        const otherBefore = await this.store.messages.deadLetters(o.thread === 'a' ? 'b' : 'a');
        const out = await recoverFailedMessagesTool(this.supervisor).execute({ action: o.t }, ctx(o.thread));
        expect(out).toEqual({ ok: true, data: { action: o.t, count: listed.length } });
        expect(await this.store.messages.deadLetters(o.thread)).toEqual([]);
        expect(await this.store.messages.deadLetters(o.thread === 'a' ? 'b' : 'a')).toEqual(otherBefore);
        const pendingIds = new Set((await this.store.messages.pending(o.thread)).map((e) => e.id));
        for (const id of listed) {
          expect(pendingIds.has(id)).toBe(o.t === 'replay');
          if (o.t === 'replay') this.failures.set(id, 0);
          else this.cleared.add(id);
        }
        break;
      }
      case 'restart':
        await this.restart();
        break;
    }
  }

  async check(): Promise<void> {
    const delivered = (await this.store.messages.delivered(RECIPIENT)).map((m) => m.message_id);
    expect(new Set(delivered).size).toBe(delivered.length); // nothing twice in the recipient thread
    const where = new Map<string, string[]>();
    const put = (id: string, place: string) => where.set(id, [...(where.get(id) ?? []), place]);
    for (const id of delivered) put(id, 'delivered');
    for (const t of THREADS) {
      for (const e of await this.store.messages.pending(t)) put(e.id, `outbox:${t}`);
      for (const l of await this.store.messages.deadLetters(t)) {
        put(l.request.message_id, `dead:${t}`);
        const failures = this.failures.get(l.request.message_id) ?? 0;
        // A dead letter only after 5 failed attempts, or at once with no sink.
        if (l.error === NO_DURABLE_TRANSPORT) expect(failures).toBeLessThan(MAX_DURABLE_ATTEMPTS);
        else {
          expect(l.error).toBe('sink down');
          expect(failures).toBe(MAX_DURABLE_ATTEMPTS);
        }
      }
    }
    for (const id of this.cleared) put(id, 'cleared');
    for (const [id, t] of this.owner) {
      const places = where.get(id) ?? [];
      // Exactly one of {outbox, delivered, dead letters} (or cleared by the recovery tool on purpose).
      expect(places.length, `${id} is in ${JSON.stringify(places)}`).toBe(1);
      const place = places[0]!;
      if (place.startsWith('outbox:') || place.startsWith('dead:'))
        expect(place.endsWith(`:${t}`)).toBe(true);
    }
    expect(where.size).toBe(this.owner.size);
  }
}

describe('property: durable messaging keeps every queued message in exactly one place', () => {
  it('P Q gap 8: send / step end / sink failure / recovery / replay / clear / restart', async () => {
    await assertWithSeed(
      'messaging',
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const world = new World(join(dir, `prop-${files++}.db`));
        try {
          for (const o of ops) {
            await world.apply(o);
            await world.check();
          }
        } finally {
          await world.supervisor.stop();
          await world.store.close();
        }
      }),
      runsFor(60),
    );
  }, 120_000);
});
