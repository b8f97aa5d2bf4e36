import type { Json } from '../wire/types.js';

/**
 * Options of `ctx.requestInput`.
 *
 * @example
 * const answer = await ctx.requestInput(
 *   { question: 'Deploy to production?', choices: ['yes', 'no'] },
 *   { validate: (r) => r === 'yes' || r === 'no' },
 * );
 */
export interface RequestInputOptions {
  /**
   * Checks an answer before it resumes the task: `false` or a throw makes `provideInput` throw an
   * `InputError` (code `invalid_response`) and the task keeps waiting.
   */
  validate?: (response: Json) => unknown;
}

/** Why `provideInput` refused an answer. */
export type InputErrorCode = 'invalid_response';

/**
 * An answer `provideInput` refused: the request's `validate` rejected it. The task keeps waiting.
 *
 * @example
 * try { supervisor.provideInput(id, 'maybe'); }
 * catch (e) { if (e instanceof InputError) console.error(e.message); }
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly code: InputErrorCode;
  constructor(code: InputErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The `event_type` of the custom event a task emits when it starts waiting for input. */
export const INPUT_REQUIRED_EVENT = 'input_required';

/** Runs a request's validator on an answer; throws `InputError` when it refuses. */
export function checkResponse(validate: ((response: Json) => unknown) | undefined, response: Json): void {
  if (validate === undefined) return;
  let verdict: unknown;
  try {
    verdict = validate(response);
  } catch (e) {
    throw new InputError(
      'invalid_response',
      `the answer was refused: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
  if (verdict === false) throw new InputError('invalid_response', 'the answer was refused by the request');
}
