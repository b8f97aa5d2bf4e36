import { Ajv } from 'ajv';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cancelTaskTool, sendMessageTool } from '../../src/agent/index.js';
import { createTaskSupervisor } from '../../src/index.js';

const supervisor = createTaskSupervisor();
const cancel = cancelTaskTool(supervisor);
const send = sendMessageTool(supervisor, {});
afterAll(() => supervisor.stop());

describe('tool parameters are real JSON Schema (§4)', () => {
  it('compile under ajv strict mode', () => {
    const ajv = new Ajv({ strict: true });
    expect(() => ajv.compile(cancel.parameters)).not.toThrow();
    expect(() => ajv.compile(send.parameters)).not.toThrow();
  });

  it('L1 L2 L8 ajv and validate agree on cancel_task examples', () => {
    const check = new Ajv({ strict: true }).compile(cancel.parameters);
    const valid = [{ target: { relation: 'self' } }, { target: { relation: 'child', name: 'bg_1' } }];
    const invalid = [
      {},
      { target: {} },
      { target: { relation: 'child' } },
      { target: { relation: 'x' } },
      [],
      'x',
      null,
    ];
    for (const v of valid) expect([check(v), cancel.validate(v)]).toEqual([true, undefined]);
    for (const v of invalid) {
      expect(check(v)).toBe(false);
      expect(cancel.validate(v)).toBeTypeOf('string');
    }
  });

  it('M7 M8 ajv and validate agree on send_message examples', () => {
    const check = new Ajv({ strict: true }).compile(send.parameters);
    const valid = [
      { to: { relation: 'child', name: 'r' }, message: 'hi' },
      { to: { relation: 'parent' }, message: 'hi' },
      { to: { relation: 'agent', thread_id: 't1' }, message: 'hi' },
      { to: { relation: 'agent', thread_id: 't1', agent_id: 'a' }, message: '' },
    ];
    const invalid = [
      { to: {}, message: 'hi' },
      { to: { relation: 'child' }, message: 'hi' },
      { to: { relation: 'agent' }, message: 'hi' },
      { to: { relation: 'parent' } },
      { to: { relation: 'parent' }, message: 1 },
      { message: 'hi' },
    ];
    for (const v of valid) expect([check(v), send.validate(v)]).toEqual([true, undefined]);
    for (const v of invalid) {
      expect(check(v)).toBe(false);
      expect(send.validate(v)).toBeTypeOf('string');
    }
  });

  it('ajv and validate agree on generated argument shapes (property)', () => {
    const cancelCheck = new Ajv({ strict: true }).compile(cancel.parameters);
    const sendCheck = new Ajv({ strict: true }).compile(send.parameters);
    const scalar = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.integer(),
      fc.string(),
      fc.boolean(),
    );
    const relation = fc.oneof(fc.constantFrom('self', 'child', 'parent', 'agent', 'x'), scalar);
    const drop = <T extends object>(o: T) =>
      Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, unknown>;
    const target = fc.oneof(scalar, fc.record({ relation, name: scalar, thread_id: scalar }).map(drop));
    // agent_id stays a string or absent: validate() ignores its type (upstream), the schema does not.
    const to = fc.oneof(
      scalar,
      fc
        .record({
          relation,
          name: scalar,
          thread_id: scalar,
          agent_id: fc.option(fc.string(), { nil: undefined }),
        })
        .map(drop),
    );
    fc.assert(
      fc.property(fc.record({ target }).map(drop), (args) => {
        expect(cancelCheck(args)).toBe(cancel.validate(args) === undefined);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.record({ to, message: scalar }).map(drop), (args) => {
        expect(sendCheck(args)).toBe(send.validate(args) === undefined);
      }),
      { numRuns: 500 },
    );
  });

  it('each tool gets its own copy of the schema', () => {
    const a = cancelTaskTool(supervisor);
    (a.parameters as { required: string[] }).required.push('mutated');
    expect(cancelTaskTool(supervisor).parameters.required).toEqual(['target']);
  });
});
