import { describe, expect, it } from 'vitest';
import { metaFromSummary, summaryFromMeta, taskIdNumber } from '../../src/wire/convert.js';
import { parsePersistedTaskMeta } from '../../src/wire/parse.js';
import { TaskResult } from '../../src/wire/taskResult.js';
import type { PersistedTaskMeta, TaskSummary } from '../../src/wire/types.js';
import { isEmptyParentContext, isTerminal, TASK_STATUSES } from '../../src/wire/types.js';

const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('basic types', () => {
  it('A1 only running is not terminal', () => {
    expect(isTerminal('running')).toBe(false);
    expect(isTerminal('completed')).toBe(true);
    expect(isTerminal('failed')).toBe(true);
    expect(isTerminal('cancelled')).toBe(true);
  });

  it('A2 statuses are the lowercase wire strings', () => {
    expect(TASK_STATUSES).toEqual(['running', 'completed', 'failed', 'cancelled']);
    expect(JSON.stringify(TASK_STATUSES)).toBe('["running","completed","failed","cancelled"]');
    expect(Object.isFrozen(TASK_STATUSES)).toBe(true);
  });

  it('A3 TaskResult.status maps success/failed/cancelled', () => {
    expect(TaskResult.status(TaskResult.success(null))).toBe('completed');
    expect(TaskResult.status(TaskResult.failed('err'))).toBe('failed');
    expect(TaskResult.status(TaskResult.cancelled())).toBe('cancelled');
  });

  it('A4 parent context is empty only when every member is unset', () => {
    expect(isEmptyParentContext({})).toBe(true);
    expect(isEmptyParentContext({ run_id: undefined } as never)).toBe(true);
    for (const key of ['task_id', 'run_id', 'call_id', 'agent_id'] as const) {
      expect(isEmptyParentContext({ [key]: 'x' })).toBe(false);
    }
  });

  it('A6 the first status is running and TaskResult has exactly three shapes', () => {
    expect(TASK_STATUSES[0]).toBe('running');
    expect({ ...TaskResult.success({ a: 1 }) }).toEqual({ status: 'completed', value: { a: 1 } });
    expect({ ...TaskResult.failed('boom') }).toEqual({ status: 'failed', error: 'boom' });
    expect({ ...TaskResult.cancelled() }).toEqual({ status: 'cancelled' });
  });
});

describe('TaskResult helpers', () => {
  it('success defaults its value to null', () => {
    expect(TaskResult.success()).toMatchObject({ status: 'completed', value: null });
  });

  it('results are frozen and branded; the brand is not enumerable and not serialized', () => {
    const r = TaskResult.success(1);
    expect(Object.isFrozen(r)).toBe(true);
    expect(TaskResult.is(r)).toBe(true);
    expect(TaskResult.is(TaskResult.failed('x'))).toBe(true);
    expect(TaskResult.is(TaskResult.cancelled())).toBe(true);
    expect(JSON.stringify(r)).toBe('{"status":"completed","value":1}');
  });

  it('a plain object shaped like a TaskResult is not TaskResult.is', () => {
    expect(TaskResult.is({ status: 'completed', value: 1 })).toBe(false);
    expect(TaskResult.is({ ...TaskResult.failed('x') })).toBe(false);
    expect(TaskResult.is(roundTrip(TaskResult.cancelled()))).toBe(false);
    expect(TaskResult.is(null)).toBe(false);
    expect(TaskResult.is('completed')).toBe(false);
  });
});

const summary = (over: Partial<TaskSummary> = {}): TaskSummary => ({
  task_id: 'bg_0',
  task_type: 'shell',
  description: 'build project',
  status: 'completed',
  result: { ok: true },
  created_at_ms: 1000,
  completed_at_ms: 2000,
  ...over,
});

describe('persistence shapes', () => {
  it('I1 metaFromSummary keeps the fields and sets the owner; no name', () => {
    const m = metaFromSummary(summary(), 'thread-1');
    expect(m).toEqual({
      task_id: 'bg_0',
      owner_thread_id: 'thread-1',
      task_type: 'shell',
      description: 'build project',
      status: 'completed',
      result: { ok: true },
      created_at_ms: 1000,
      completed_at_ms: 2000,
      parent_context: {},
    });
    expect('name' in m).toBe(false);
    expect(metaFromSummary(summary(), 't', 'researcher').name).toBe('researcher');
  });

  it('I2 a failed meta round-trips through JSON', () => {
    const m = metaFromSummary(summary({ status: 'failed', error: 'timeout', result: null }), 'thread-1');
    expect(roundTrip(m)).toEqual(m);
    expect(parsePersistedTaskMeta(roundTrip(m))).toEqual(m);
  });

  it('I3 parent context run_id and agent_id round-trip; call_id stays unset', () => {
    const m = metaFromSummary(
      summary({
        task_id: 'bg_99',
        task_type: 'delegation',
        parent_context: { run_id: 'run-123', agent_id: 'agent-a' },
      }),
      't',
    );
    const back = parsePersistedTaskMeta(roundTrip(m));
    expect(back).toEqual(m);
    expect(back.parent_context.run_id).toBe('run-123');
    expect(back.parent_context.agent_id).toBe('agent-a');
    expect(back.parent_context.call_id).toBeUndefined();
  });

  it('I4 a legacy record parses with defaults', () => {
    const m = parsePersistedTaskMeta(
      JSON.parse(
        '{"task_id":"bg_old","task_type":"shell","description":"legacy task","status":"completed","created_at_ms":100,"completed_at_ms":200}',
      ),
    );
    expect(m.owner_thread_id).toBe('');
    expect(isEmptyParentContext(m.parent_context)).toBe(true);
    expect(m.parent_context).toEqual({});
    expect(m.result ?? null).toBeNull();
    expect('result' in m).toBe(false);
  });

  it('I5 a result is serialized and round-trips', () => {
    const m = metaFromSummary(summary({ result: { output: 'built ok', lines: 42 } }), 't');
    const text = JSON.stringify(m);
    expect(text).toContain('"result"');
    expect(parsePersistedTaskMeta(JSON.parse(text))).toEqual(m);
  });

  it('I6 a null result is omitted from the JSON', () => {
    const m = metaFromSummary(summary({ result: null }), 't');
    expect(JSON.stringify(m)).not.toContain('"result"');
    expect(JSON.stringify(summaryFromMeta(m))).not.toContain('"result"');
  });

  it('I6a a failed summary round-trips', () => {
    const s = summary({
      task_id: 'bg_42',
      task_type: 'http',
      description: 'fetch API data',
      status: 'failed',
      error: 'connection refused',
      result: null,
    });
    const back = roundTrip(s);
    expect(back.task_id).toBe('bg_42');
    expect(back.status).toBe('failed');
    expect(back.error).toBe('connection refused');
    expect(back.result).toBeNull();
    expect(back.completed_at_ms).toBe(2000);
  });

  it('I6b an empty parent context is omitted from a summary', () => {
    const m = metaFromSummary(summary({ parent_context: {} }), 't');
    const s = summaryFromMeta(m);
    expect(JSON.stringify(s)).not.toContain('parent_context');
    expect('owner_thread_id' in s || 'name' in s).toBe(false);
  });

  it('I6c a non-empty parent context is kept in a summary', () => {
    const m: PersistedTaskMeta = metaFromSummary(summary({ parent_context: { run_id: 'run-1' } }), 't', 'n');
    const text = JSON.stringify(summaryFromMeta(m));
    expect(text).toContain('parent_context');
    expect(text).toContain('run-1');
    expect(text).not.toContain('"name"');
  });
});

describe('taskIdNumber', () => {
  it.each([
    ['bg_0', 0],
    ['bg_007', 7],
    ['bg_42', 42],
    ['bg_x', undefined],
    ['bg_', undefined],
    ['bg_-1', undefined],
    ['bg_1.5', undefined],
    ['task_1', undefined],
    ['bg_18446744073709551615', undefined],
    [`bg_${Number.MAX_SAFE_INTEGER}`, Number.MAX_SAFE_INTEGER],
  ])('I22 (section 6 item 17) taskIdNumber(%s) is %s', (id, n) => {
    expect(taskIdNumber(id)).toBe(n);
  });
});
