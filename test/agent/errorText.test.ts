import { describe, expect, it } from 'vitest';
import { cancelTaskTool } from '../../src/agent/cancelTask.js';
import { clipText, errorText, MAX_ECHOED_CHARS, quoteArgument } from '../../src/agent/errorText.js';
import { sendMessageTool } from '../../src/agent/sendMessage.js';
import { validateCancelTaskArgs, validateSendMessageArgs } from '../../src/agent/validation.js';
import { createTaskSupervisor } from '../../src/index.js';

const HUGE = 'x'.repeat(10 * 1024 * 1024);
const CUT = `'${'x'.repeat(MAX_ECHOED_CHARS)}…' (10485760 chars)`;

describe('tool error texts cut long arguments (issue 11)', () => {
  it('L8/M8 a 10 MB relation is cut with an ellipsis and its length; a normal one keeps the exact upstream text', () => {
    expect(validateCancelTaskArgs({ target: { relation: HUGE } })).toBe(`unknown relation ${CUT}`);
    expect(validateSendMessageArgs({ to: { relation: HUGE }, message: 'm' })).toBe(`unknown relation ${CUT}`);
    expect(validateCancelTaskArgs({ target: { relation: 'parent' } })).toBe("unknown relation 'parent'");
    const exact = 'y'.repeat(MAX_ECHOED_CHARS);
    expect(validateCancelTaskArgs({ target: { relation: exact } })).toBe(`unknown relation '${exact}'`);
  });

  it('the tools answer a 10 MB relation, and a 10 MB unknown child name, in under a kilobyte', async () => {
    const sup = createTaskSupervisor();
    const cancel = cancelTaskTool(sup, { taskId: 'bg_404' });
    const send = sendMessageTool(sup);
    const a = await cancel.execute({ target: { relation: HUGE } }, { threadId: 't' });
    expect(a).toEqual({ ok: false, error: `Invalid arguments: unknown relation ${CUT}` });
    const b = await send.execute({ to: { relation: HUGE }, message: 'm' }, { threadId: 't' });
    expect(JSON.stringify(b).length).toBeLessThan(1024);
    const c = await cancel.execute({ target: { relation: 'child', name: HUGE } }, { threadId: 't' });
    expect(JSON.stringify(c).length).toBeLessThan(1024);
    expect(c).toMatchObject({ ok: true, data: { status: 'failed', error: 'task_not_found' } });
    await sup.stop();
  });

  it('clipText never splits a surrogate pair; errorText cuts huge messages and survives hostile values', () => {
    expect(clipText(`${'a'.repeat(4)}😀b`, 5)).toBe('aaaa… (7 chars)');
    expect(quoteArgument('fork')).toBe("'fork'");
    expect(errorText(new Error(HUGE)).length).toBeLessThan(2_100);
    expect(errorText(new Error('boom'))).toBe('boom');
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    expect(errorText(hostile)).toBe('unprintable error');
  });
});
