import type { Result } from '@modelcontextprotocol/sdk/types.js';
import type { CustomTaskEvent } from '../../wire/types.js';

/** What the MCP store keeps in memory per task, beside the supervisor's summary. */
export interface Meta {
  ttl: number;
  sessionId: string | undefined;
  /** Set by the SDK through `updateTaskStatus('input_required' | 'working')`. */
  inputRequired: boolean;
  /** Pending `waitingForInput` calls. */
  inputWaits: number;
  cancelRequested: boolean;
  statusMessage: string | undefined;
  updatedAt: number | undefined;
  /** A task created through `createTask`: its result arrives through `storeTaskResult`. */
  settle: ((outcome: { status: 'completed' | 'failed'; result: Result }) => void) | undefined;
  onEvent: ((event: CustomTaskEvent) => void) | undefined;
  onEnd: ((taskId: string) => void) | undefined;
}

/** A fresh task record with the granted TTL. */
export function newMeta(ttl: number, sessionId: string | undefined): Meta {
  return {
    ttl,
    sessionId,
    inputRequired: false,
    inputWaits: 0,
    cancelRequested: false,
    statusMessage: undefined,
    updatedAt: undefined,
    settle: undefined,
    onEvent: undefined,
    onEnd: undefined,
  };
}

/**
 * The TTL granted for a requested one: the default when none was asked, the maximum for `null`
 * (unlimited) and anything above it.
 *
 * @example
 * grantTtl(null, 3_600_000, 86_400_000); // 86400000
 */
export function grantTtl(ttl: number | null | undefined, defaultTtl: number, maxTtl: number): number {
  if (ttl === undefined) return Math.min(defaultTtl, maxTtl);
  if (ttl === null || !Number.isFinite(ttl)) return maxTtl;
  return Math.min(Math.max(0, Math.floor(ttl)), maxTtl);
}
