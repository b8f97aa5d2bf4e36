import type { InboxSender } from '../inbox/types.js';
import { toJson } from '../wire/jsonSafe.js';
import type { CustomTaskEvent, Json, TaskEvent } from '../wire/types.js';
import type { TaskEntry } from './entry.js';
import { notifyObservers, type Observer } from './eventObservers.js';
import type { ReplicaLink } from './replicas.js';

/** The counts a supervisor reports in `stats()`. Internal. */
export interface SupervisorCounters {
  spawned: number;
  eventsDelivered: number;
  eventsUndelivered: number;
  eventsDropped: number;
}

/**
 * What a task's `ctx.emit` reaches of its supervisor: one plain object per supervisor, made by
 * {@link newEmitRoute}. The emit path reads only objects whose hidden classes V8 keeps for the life
 * of the process (this literal, the counters literal, a `Set`, the task's entry literal), never the
 * supervisor's class instance: a class's hidden classes live only as long as one of its instances,
 * so a garbage collection with no supervisor alive would throw the optimised emit path away (see
 * docs/design.md, fourth pass on the emit path). Internal.
 */
export interface EmitRoute {
  readonly counters: SupervisorCounters;
  /** The supervisor's event observers (`onEvent`), read for their count on every event. */
  readonly observers: ReadonlySet<Observer>;
  /** Set when the store coordinates several replicas: custom events are stored first. */
  replicas: ReplicaLink | undefined;
}

/**
 * A new route with zeroed counters.
 *
 * @example
 * const route = newEmitRoute(new Set());
 * route.counters.eventsDelivered; // 0
 */
export function newEmitRoute(observers: ReadonlySet<Observer>): EmitRoute {
  return {
    counters: { spawned: 0, eventsDelivered: 0, eventsUndelivered: 0, eventsDropped: 0 },
    observers,
    replicas: undefined,
  };
}

/**
 * A task's custom event: the payload's JSON check and copy, the task's latest event, the
 * observers, then its inbox (or, with replicas, the store). `false` once the task is terminal.
 * The hot path of a task's progress: the rare branches are calls, so V8 inlines the whole path
 * (context → here → copy → delivery → ring) into the caller.
 *
 * @example
 * // ctx.emit('progress', { percent: 50 }) is
 * // emitCustom(route, entry, 'progress', { percent: 50 });
 */
export function emitCustom(
  route: EmitRoute,
  entry: TaskEntry,
  eventType: string,
  payload: Json | undefined,
): boolean {
  if (typeof eventType !== 'string') throw eventTypeError(eventType);
  const json = toJson(payload, 'payload');
  if (entry.done) return false;
  const event: CustomTaskEvent = {
    kind: 'custom',
    task_id: entry.id,
    event_type: eventType,
    payload: json,
  };
  // The latest of each type without a map per emit: the previous event moves to the per-type
  // map only when the type changes (a task emitting one type never allocates it). The payload's
  // hidden class is kept for later tasks when the task ends (`keepPayloadShape`), not here: a call
  // that only a task's first event makes would throw the optimised path away at every new task.
  const box = entry.latest;
  const previous = box === undefined ? undefined : box.event;
  if (previous !== undefined && previous.event_type !== eventType) keepLatestOfType(entry, previous);
  // A young holder keeps it (see `TaskEntry.latest`), a new one every 64 events (the literal, not
  // an imported constant: that would be a checked module-binding load on every event).
  if (box === undefined || ++entry.latestStores >= 64) {
    entry.latest = { event };
    entry.latestStores = 0;
  } else box.event = event;
  if (route.observers.size > 0) notifyObservers(route.observers, event, entry.ownerThreadId);
  const replicas = route.replicas;
  if (replicas !== undefined) return replicas.emit(entry, event);
  const inbox = entry.inbox;
  return inbox === undefined ? false : deliverCounted(route.counters, inbox, event);
}

/**
 * Sends an event to an inbox, counting it; a sender that throws counts as undelivered. Custom
 * events a bounded inbox drops to make room (or drops on arrival) count in `eventsDropped`.
 *
 * @example
 * deliverCounted(route.counters, inbox.sender, event); // true, eventsDelivered + 1
 */
export function deliverCounted(counters: SupervisorCounters, inbox: InboxSender, event: TaskEvent): boolean {
  let ok = false;
  try {
    const before = inbox.dropped;
    ok = inbox.send(event);
    const after = inbox.dropped;
    if (after !== before && before !== undefined && after !== undefined)
      counters.eventsDropped += after - before;
  } catch {
    ok = false;
  }
  if (ok) counters.eventsDelivered++;
  else counters.eventsUndelivered++;
  return ok;
}

function eventTypeError(eventType: unknown): TypeError {
  return new TypeError(
    `Expected \`eventType\` to be a string, got ${eventType === null ? 'null' : typeof eventType}`,
  );
}

/** Files an event that is no longer its task's latest under its type (`latestEvent(id, type)`). */
function keepLatestOfType(entry: TaskEntry, previous: CustomTaskEvent): void {
  (entry.lastByType ??= new Map()).set(previous.event_type, previous);
}
