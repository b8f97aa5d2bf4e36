import { afterEach } from 'vitest';
import { until } from '../helpers/async.js';
import { createInbox, createTaskSupervisor } from '../../src/index.js';
import type {
  DurableMessageRequest,
  DurableMessageSink,
  Message,
  ToolDefinition,
} from '../../src/agent/index.js';
import type { SpawnOptions, TaskContext, TaskSupervisor } from '../../src/index.js';
import type { Json } from '../../src/wire/types.js';

export { gate, parked } from '../helpers/async.js';

/** `until` for the agent tests (loops make several model turns): the same long default bound. */
export const waitFor = (cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> =>
  until(cond, timeoutMs, what);

/** A supervisor reporting to a fresh owner inbox; stopped by `cleanup`. */
export function setup(): {
  supervisor: TaskSupervisor;
  inbox: ReturnType<typeof createInbox>;
  cleanup: () => Promise<void>;
} {
  const inbox = createInbox();
  const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender, cancelGraceMs: 2_000 });
  return { supervisor, inbox, cleanup: () => supervisor.stop() };
}

/**
 * `fresh()` makes a `setup()` supervisor; `defer(fn)` registers any other cleanup. Everything runs
 * after each test.
 */
export function freshSupervisors(): {
  fresh: () => TaskSupervisor;
  defer: (fn: () => Promise<void>) => void;
} {
  let cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups) await c();
    cleanups = [];
  });
  const defer = (fn: () => Promise<void>): void => {
    cleanups.push(fn);
  };
  const fresh = (): TaskSupervisor => {
    const s = setup();
    defer(s.cleanup);
    return s.supervisor;
  };
  return { fresh, defer };
}

/** The data of a successful tool outcome, or a failure naming the error. */
export function dataOf(
  outcome: { ok: true; data: Json } | { ok: false; error: string },
): Record<string, Json> {
  if (!outcome.ok) throw new Error(`tool failed: ${outcome.error}`);
  return outcome.data as Record<string, Json>;
}

/** A user tool that spawns one task with `body` on the caller's thread and returns its id. */
export function spawnTool(
  supervisor: TaskSupervisor,
  body: (ctx: TaskContext) => unknown,
  opts: { name?: string; toolName?: string } = {},
): ToolDefinition {
  return {
    name: opts.toolName ?? 'spawn_task',
    description: 'Start a background task.',
    parameters: { type: 'object', properties: {} },
    validate: () => undefined,
    async execute(_args, ctx) {
      const spawn: SpawnOptions = {
        threadId: ctx.threadId,
        taskType: 'worker',
        description: 'background work',
      };
      if (opts.name !== undefined) spawn.name = opts.name;
      const id = await supervisor.spawn(spawn, body);
      return { ok: true, data: { task_id: id } };
    },
  };
}

/** A user tool (`send_events` unless named) whose every call sends `payloads` into `inbox`. */
export function sendingTool(
  inbox: { send(m: Json): boolean },
  payloads: Json[],
  toolName = 'send_events',
): ToolDefinition {
  return {
    name: toolName,
    description: 'pushes events',
    parameters: { type: 'object' },
    validate: () => undefined,
    execute: async () => {
      for (const p of payloads) inbox.send(p);
      return { ok: true, data: 'sent' };
    },
  };
}

/** The JSON body of a `<background-task-event>` message. */
export function eventBody(content: string): Record<string, Json> {
  return JSON.parse(content.split('\n')[1] ?? 'null') as Record<string, Json>;
}

/** The parsed task events among `messages`. */
export function eventsIn(messages: readonly Message[]): Array<Record<string, Json>> {
  return messages
    .filter((m) => m.content.startsWith('<background-task-event'))
    .map((m) => eventBody(m.content));
}

/** The (kind, task_id) of each task-event message, in order. */
export function eventKindsIn(messages: readonly Message[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of messages) {
    const hit = /^<background-task-event kind="([^"]+)" task_id="([^"]+)">/.exec(m.content);
    if (hit) out.push([hit[1]!, hit[2]!]);
  }
  return out;
}

/** `supervisor` with some members replaced (methods of the original stay bound to it). */
export function withOverrides(
  supervisor: TaskSupervisor,
  overrides: Partial<TaskSupervisor>,
): TaskSupervisor {
  return new Proxy(supervisor, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return (overrides as Record<string | symbol, unknown>)[prop];
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** A durable sink that records every request and answers `durable-<n>`. */
export function recordingSink(): DurableMessageSink & { requests: DurableMessageRequest[] } {
  const requests: DurableMessageRequest[] = [];
  return {
    requests,
    async sendAgentMessage(req) {
      requests.push(req);
      return `durable-${requests.length}`;
    },
  };
}
