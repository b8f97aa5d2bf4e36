import type { Context, Span, Tracer } from '@opentelemetry/api';
import type { TaskChange, TaskSupervisor } from '../../supervisor/types.js';
import type { TaskEvent, TaskId, TaskSummary } from '../../wire/types.js';
import {
  ATTEMPT_SPAN_NAME,
  startAttributes,
  TASK_ATTRIBUTES,
  TASK_ERROR_TYPE,
  TASK_SPAN_NAME,
} from './attributes.js';
import { otel } from './peer.js';

const { context, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace } = otel;

/** What `traceTasks` takes. */
export interface TraceTasksOptions {
  /** Default: `trace.getTracer('awaken-tasks')` from the globally registered provider. */
  tracer?: Tracer;
  /** Custom events recorded per span; later ones are counted, not recorded. Default 128. */
  maxEventsPerSpan?: number;
  /** Longest JSON payload kept on a span event, in characters. Default 1024. */
  maxPayloadChars?: number;
}

/** A running instrumentation, from `traceTasks`. */
export interface TaskTracing {
  /** Spans started and not yet ended (an inert span of the API's no-op tracer is not kept). */
  readonly openSpans: number;
  /**
   * Stops observing the supervisor and ends every open span with `close_reason` = `reason`
   * (default `shutdown`) and an error status saying the task had not finished.
   *
   * @example
   * const tracing = traceTasks(supervisor, { tracer: trace.getTracer('agent') });
   * process.on('SIGTERM', () => tracing.close('sigterm'));
   */
  close(reason?: string): void;
}

const SHUTDOWN = 'shutdown';

interface OpenSpan {
  readonly span: Span;
  /** The context the span was started in; its own context is made only when a child needs it. */
  readonly parent: Context;
  ctx: Context | undefined;
  readonly parentTaskId: TaskId | undefined;
  events: number;
  dropped: number;
  /** A durable task's current attempt span, and its number. */
  attempt?: { readonly span: Span; readonly n: number } | undefined;
}

/**
 * Traces a supervisor's tasks with OpenTelemetry: one `awaken.background_task` span per task,
 * from its spawn to its terminal state (start and end times are the task's own
 * `created_at_ms`/`completed_at_ms`).
 *
 * Guarantees: a task's span is a child of its parent task's span, else of the span active where
 * `spawn` was called; its attributes carry the task id, type, thread, run, tool call, agent,
 * status and error; custom events become span events (at most `maxEventsPerSpan`, the rest
 * counted in `awaken.background_task.events_dropped`); `failed` and `cancelled` set an error
 * status, and a cancelled task names the task whose cancellation reached it
 * (`awaken.background_task.cancelled_by`). When the supervisor stops, tasks it cancels get
 * `close_reason` = `shutdown`, and spans still open are ended the same way. Without an
 * OpenTelemetry SDK registered the API's no-op tracer is used and nothing is recorded.
 * A durable task's span has one `awaken.background_task.attempt` child per attempt (attribute
 * `awaken.background_task.attempt`), ended with the attempt's error when it failed.
 *
 * @example
 * import { traceTasks } from 'awaken-tasks/otel';
 * const tracing = traceTasks(supervisor);
 * // … later, to detach (spans still open end with close_reason 'shutdown'):
 * tracing.close();
 */
export function traceTasks(supervisor: TaskSupervisor, options: TraceTasksOptions = {}): TaskTracing {
  if (supervisor === null || typeof supervisor !== 'object' || typeof supervisor.subscribe !== 'function') {
    throw new TypeError(`Expected \`supervisor\` to be a TaskSupervisor, got ${describe(supervisor)}`);
  }
  const tracer = options.tracer ?? trace.getTracer('awaken-tasks');
  const maxEvents = nonNegative(options.maxEventsPerSpan, 128, 'options.maxEventsPerSpan');
  const maxChars = nonNegative(options.maxPayloadChars, 1024, 'options.maxPayloadChars');
  const open = new Map<TaskId, OpenSpan>();
  // Statuses of spans already ended, so a late child can still tell its parent was cancelled.
  const cancelledEnded = new Set<TaskId>();
  let stopping = false;
  let closed = false;

  const start = (summary: TaskSummary, threadId: string): void => {
    if (open.has(summary.task_id)) return;
    const parentTaskId = summary.parent_context?.task_id;
    // `spawned` is notified synchronously inside `spawn`, so the active context is the spawner's.
    const parentSpan = parentTaskId !== undefined ? open.get(parentTaskId) : undefined;
    const parent = parentSpan !== undefined ? contextOf(parentSpan) : context.active();
    const span = tracer.startSpan(
      TASK_SPAN_NAME,
      { kind: SpanKind.INTERNAL, startTime: summary.created_at_ms },
      parent,
    );
    // Attributes are built only for a recording span: with no SDK, tracing costs next to nothing.
    if (span.isRecording()) span.setAttributes(startAttributes(summary, threadId));
    // With no SDK and no trace to continue the span is inert (nothing recorded, nothing to
    // propagate): it is not kept, so a task pays no bookkeeping for it.
    else {
      const sc = span.spanContext();
      // The no-op tracer's shared constant first: the validity check runs two regular expressions.
      if (sc === INVALID_SPAN_CONTEXT || !trace.isSpanContextValid(sc)) return;
    }
    open.set(summary.task_id, { span, parent, ctx: undefined, parentTaskId, events: 0, dropped: 0 });
  };

  const cancelOrigin = (taskId: TaskId, parentTaskId: TaskId | undefined): TaskId => {
    let origin = taskId;
    let current = parentTaskId;
    // Walk up while the ancestor is itself being cancelled: the topmost one started the cascade.
    while (current !== undefined && isCancelling(supervisor, current, cancelledEnded)) {
      origin = current;
      current = open.get(current)?.parentTaskId ?? supervisor.get(current)?.parent_context?.task_id;
    }
    return origin;
  };

  const finish = (summary: TaskSummary): void => {
    const o = open.get(summary.task_id);
    if (o === undefined) return;
    const { span } = o;
    open.delete(summary.task_id);
    if (!span.isRecording()) {
      span.end(summary.completed_at_ms);
      return;
    }
    span.setAttribute(TASK_ATTRIBUTES.status, summary.status);
    if (o.dropped > 0) span.setAttribute(TASK_ATTRIBUTES.eventsDropped, o.dropped);
    if (summary.stop_reason !== undefined) span.setAttribute(TASK_ATTRIBUTES.stopReason, summary.stop_reason);
    const usage = summary.usage;
    if (usage !== undefined) {
      if (usage.tokens !== undefined) span.setAttribute(TASK_ATTRIBUTES.usageTokens, usage.tokens);
      if (usage.cost_usd !== undefined) span.setAttribute(TASK_ATTRIBUTES.usageCostUsd, usage.cost_usd);
      if (usage.tool_calls !== undefined) span.setAttribute(TASK_ATTRIBUTES.usageToolCalls, usage.tool_calls);
    }
    if (summary.status === 'failed') {
      const message = summary.error ?? 'failed';
      span.setAttributes({
        [TASK_ATTRIBUTES.errorType]: TASK_ERROR_TYPE,
        [TASK_ATTRIBUTES.errorMessage]: message,
      });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    } else if (summary.status === 'cancelled') {
      const origin = stopping ? undefined : cancelOrigin(summary.task_id, o.parentTaskId);
      if (stopping) span.setAttribute(TASK_ATTRIBUTES.closeReason, SHUTDOWN);
      else span.setAttribute(TASK_ATTRIBUTES.cancelledBy, origin ?? summary.task_id);
      const why = stopping
        ? 'cancelled: supervisor shutdown'
        : origin === summary.task_id
          ? 'cancelled'
          : `cancelled with task ${origin}`;
      span.setStatus({ code: SpanStatusCode.ERROR, message: why });
      cancelledEnded.add(summary.task_id);
    } else {
      span.setStatus({ code: SpanStatusCode.OK });
    }
    span.end(summary.completed_at_ms);
  };

  // A durable task: one span per attempt, from its claim to its end, under the task's span.
  const endAttempt = (o: OpenSpan, error: string | undefined): void => {
    const a = o.attempt;
    if (a === undefined) return;
    o.attempt = undefined;
    if (error === undefined) a.span.setStatus({ code: SpanStatusCode.OK });
    else {
      a.span.setAttributes({
        [TASK_ATTRIBUTES.errorType]: TASK_ERROR_TYPE,
        [TASK_ATTRIBUTES.errorMessage]: error,
      });
      a.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    }
    a.span.end();
  };

  const onAttempt = (s: TaskSummary): void => {
    const o = open.get(s.task_id);
    const n = s.attempt;
    if (o === undefined || n === undefined) return;
    if (o.attempt !== undefined && (o.attempt.n !== n || s.phase !== undefined)) endAttempt(o, s.last_error);
    if (n > 0 && s.phase === undefined && o.attempt === undefined) {
      const span = tracer.startSpan(ATTEMPT_SPAN_NAME, { kind: SpanKind.INTERNAL }, contextOf(o));
      if (span.isRecording())
        span.setAttributes({ [TASK_ATTRIBUTES.id]: s.task_id, [TASK_ATTRIBUTES.attempt]: n });
      o.attempt = { span, n };
    }
  };

  const onChange = (change: TaskChange): void => {
    const s = change.summary;
    if (change.type === 'spawned' && s.status === 'running') start(s, change.thread_id);
    else if (s.status !== 'running') {
      const o = open.get(s.task_id);
      if (o?.attempt !== undefined)
        endAttempt(o, s.status === 'completed' ? undefined : (s.error ?? s.status));
      finish(s);
    } else if (s.max_attempts !== undefined) onAttempt(s);
  };

  const onEvent = (event: TaskEvent): void => {
    if (event.kind !== 'custom') return;
    const o = open.get(event.task_id);
    if (o === undefined) return;
    if (o.events >= maxEvents) {
      o.dropped++;
      return;
    }
    o.events++;
    const json = JSON.stringify(event.payload) ?? 'null';
    o.span.addEvent(event.event_type, {
      'awaken.background_task.event.payload': json.length > maxChars ? `${json.slice(0, maxChars)}…` : json,
    });
  };

  const closeAll = (reason: string): void => {
    const message = `background task closed before terminal status: ${reason}`;
    for (const o of open.values()) endAttempt(o, message);
    for (const { span, dropped } of open.values()) {
      if (dropped > 0) span.setAttribute(TASK_ATTRIBUTES.eventsDropped, dropped);
      span.setAttribute(TASK_ATTRIBUTES.closeReason, reason);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      span.end();
    }
    open.clear();
  };

  const unsubscribe = supervisor.subscribe(onChange);
  const stopObserving = supervisor.onEvent(onEvent);
  const actorSub = supervisor.actor.subscribe({
    next: (snapshot: { status: string; value?: unknown }) => {
      if (snapshot.value === 'stopping') stopping = true;
      if (snapshot.status === 'done') detach(SHUTDOWN);
    },
    complete: () => detach(SHUTDOWN),
  });

  function detach(reason: string): void {
    if (closed) return;
    closed = true;
    unsubscribe();
    stopObserving();
    actorSub.unsubscribe();
    closeAll(reason);
  }

  return {
    get openSpans() {
      return open.size;
    },
    close(reason = SHUTDOWN) {
      if (typeof reason !== 'string') {
        throw new TypeError(`Expected \`reason\` to be a string, got ${describe(reason)}`);
      }
      detach(reason);
    },
  };
}

function contextOf(o: OpenSpan): Context {
  o.ctx ??= trace.setSpan(o.parent, o.span);
  return o.ctx;
}

function isCancelling(supervisor: TaskSupervisor, taskId: TaskId, cancelledEnded: Set<TaskId>): boolean {
  if (cancelledEnded.has(taskId)) return true;
  const snapshot = supervisor.taskActor(taskId)?.getSnapshot();
  if (snapshot !== undefined) return snapshot.matches({ running: 'cancelling' });
  return supervisor.get(taskId)?.status === 'cancelled';
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`Expected \`${name}\` to be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value === 'number' ? String(value) : typeof value;
}
