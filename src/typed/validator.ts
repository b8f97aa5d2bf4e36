/**
 * Runtime checks for typed tasks: a Standard Schema (zod 4, valibot, arktype… all implement it)
 * or a plain function that returns the value or throws.
 */

/**
 * The Standard Schema interface (https://standardschema.dev), as far as awaken-tasks uses it.
 * Any library that implements the spec fits without an adapter.
 *
 * @example
 * import { z } from 'zod';
 * const schema: StandardSchemaV1<unknown, { url: string }> = z.object({ url: z.string() });
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    /** Checks `value`: its value when valid, or the issues found. */
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** What a Standard Schema's `validate` returns. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
      }>;
    };

/**
 * A runtime check of a `T`: a Standard Schema whose output is `T`, or a function that returns the
 * (possibly transformed) value or throws why not.
 *
 * @example
 * const pages: Validator<{ pages: number }> = (v) => {
 *   if (typeof (v as { pages?: unknown })?.pages !== 'number') throw new Error('pages must be a number');
 *   return v as { pages: number };
 * };
 */
export type Validator<T> = StandardSchemaV1<unknown, T> | ((value: unknown) => T);

type IssuePath = ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;

function pathText(path: IssuePath): string {
  if (path === undefined || path.length === 0) return '';
  return `${path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.')}: `;
}

function issuesText(result: StandardResult<unknown>): string {
  if (result.issues === undefined) return '';
  return result.issues.map((i) => `${pathText(i.path)}${i.message}`).join('; ');
}

function isSchema<T>(v: Validator<T>): v is StandardSchemaV1<unknown, T> {
  return typeof v === 'object' && v !== null && typeof v['~standard']?.validate === 'function';
}

/**
 * Whether `v` can be used as a {@link Validator}.
 *
 * @example
 * isValidator((v: unknown) => v); // true
 */
export function isValidator(v: unknown): v is Validator<unknown> {
  return typeof v === 'function' || isSchema(v as Validator<unknown>);
}

/**
 * Checks `value`, synchronously when the validator is: returns the validated value or a promise
 * of it (an async schema); throws (or rejects with) an `Error` whose message says what is wrong.
 *
 * @example
 * validate((v) => String(v), 42); // '42'
 */
export function validate<T>(validator: Validator<T>, value: unknown): T | Promise<T> {
  if (!isSchema(validator)) return validator(value);
  const result = validator['~standard'].validate(value);
  const settle = (r: StandardResult<T>): T => {
    if (r.issues !== undefined) throw new Error(issuesText(r) || 'invalid value');
    return r.value;
  };
  return result instanceof Promise ? result.then(settle) : settle(result);
}
