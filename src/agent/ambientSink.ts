import { AsyncLocalStorage } from 'node:async_hooks';
import type { DurableMessageSink } from './types.js';

// One storage per process even when the package is loaded twice (as the lineage storages).
const KEY = Symbol.for('awaken-tasks.ambientDurableSink');
const g = globalThis as { [KEY]?: AsyncLocalStorage<DurableMessageSink> };
const storage = (g[KEY] ??= new AsyncLocalStorage<DurableMessageSink>());

/**
 * Runs `fn` with `sink` as the ambient durable sink: a dispatcher that was given no sink of its own
 * delivers through it. A host scopes its mailbox around each whole run this way.
 *
 * @example
 * await withDurableMessageSink(mailboxSink, () => runAgentLoop({ model, supervisor, threadId }));
 */
export function withDurableMessageSink<T>(sink: DurableMessageSink, fn: () => T): T {
  return storage.run(sink, fn);
}

/**
 * The ambient durable sink of the current async context, or `undefined` outside any
 * `withDurableMessageSink` scope.
 *
 * @example
 * currentDurableMessageSink(); // undefined
 */
export function currentDurableMessageSink(): DurableMessageSink | undefined {
  return storage.getStore();
}
