/**
 * `T` with every part checked against JSON: strings, finite numbers, booleans, `null`, arrays
 * and plain objects of those. Unlike `Json`, it accepts `interface` types (they have no index
 * signature, which `Json`'s `{ [key: string]: Json }` demands); it maps a function, a `bigint`, a
 * `symbol`, a `Date` or a `Map` (their methods) to `never`, so a type holding one fails the
 * `T extends JsonCompatible<T>` constraint the typed-task API puts on inputs, events and results.
 * `undefined` passes (an optional member; JSON drops it); an `unknown` or `any` member passes too.
 *
 * @example
 * interface Page { url: string; words: number }
 * const ok = <T extends JsonCompatible<T>>(value: T): T => value;
 * ok<Page>({ url: 'https://example.com', words: 120 }); // compiles
 * // ok<{ at: Date }>({ at: new Date() });             // does not: Date is not JSON
 */
export type JsonCompatible<T> = { [K in keyof T]: JsonMember<T[K]> };

/** One member of a {@link JsonCompatible} type, checked the same way all the way down. */
export type JsonMember<V> = unknown extends V
  ? V
  : V extends string | number | boolean | null | undefined
    ? V
    : V extends bigint | symbol | ((...args: never[]) => unknown)
      ? never
      : { [K in keyof V]: JsonMember<V[K]> };
