import type { ReplicaEvent } from '../stores/coordination.js';

/**
 * A replica's link events (connection lost and back, polling fallback on and off): each is
 * counted, reported as a process warning an operator sees, and handed to the listeners of
 * `onReplicaEvent`.
 */
export class ReplicaEvents {
  /** How often each kind happened. */
  readonly counts = { connection_lost: 0, reconnected: 0, polling_started: 0, polling_ended: 0 };
  readonly #listeners = new Set<(event: ReplicaEvent) => void>();

  /** Observes the events; returns the function that stops observing. */
  add(listener: (event: ReplicaEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  report(event: ReplicaEvent): void {
    this.counts[event.type]++;
    process.emitWarning(`awaken-tasks: ${describe(event)}`);
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`awaken-tasks: an onReplicaEvent listener threw: ${String(error)}`);
      }
    }
  }
}

function describe(e: ReplicaEvent): string {
  switch (e.type) {
    case 'connection_lost':
      return `the replica's database connection was lost (${e.error ?? 'unknown'}); reconnecting, epoch ${e.epoch} kept while its lease lasts`;
    case 'reconnected':
      return e.epoch_kept === true
        ? `the replica reconnected after ${e.down_ms ?? 0} ms and kept its epoch ${e.epoch}`
        : `the replica reconnected after ${e.down_ms ?? 0} ms past its lease: its tasks were orphaned, new epoch ${e.epoch}`;
    case 'polling_started':
      return `notifications cannot arrive (${e.error ?? 'unknown'}): control requests and events are polled`;
    case 'polling_ended':
      return 'notifications arrive again: polling fallback ended';
  }
}
