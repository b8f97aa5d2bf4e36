/** `awaken-tasks tree`: the persisted task tree of a SQLite store, read without touching the file. */
import type Database from 'better-sqlite3';
import { taskTreeToDot, taskTreeToMermaid } from '../graph/taskTree.js';
import { jsonTree } from './jsonTree.js';
import { decodeRows } from '../stores/decode.js';
import { loadBetterSqlite3 } from '../stores/drivers.js';
import { summaryFromMeta } from '../wire/convert.js';
import type { PersistedTaskMeta, TaskSummary } from '../wire/types.js';
import { CliError, oneLine } from './errors.js';
import { renderTextTree } from './textTree.js';

/**
 * Output formats of `tree`.
 *
 * @example
 * TREE_FORMATS.includes('json'); // true
 */
export const TREE_FORMATS = ['text', 'mermaid', 'dot', 'json'] as const;
/** One of {@link TREE_FORMATS}. */
export type TreeFormat = (typeof TREE_FORMATS)[number];

/** The records of one owner thread, as summaries in creation order. */
export interface ThreadTasks {
  thread_id: string;
  tasks: TaskSummary[];
}

/**
 * Reads a store file's records read-only (`fileMustExist`: a missing file is never created; the
 * file's bytes are never changed), grouped by owner thread, optionally one thread. Throws
 * {@link CliError} for a missing, unreadable or foreign file and for an unknown thread.
 *
 * @example
 * const [demo] = readStoreThreads('./awaken-tasks.db', 'demo');
 */
export function readStoreThreads(
  path: string,
  threadId?: string,
): { threads: ThreadTasks[]; corrupt: number } {
  const Sqlite = loadBetterSqlite3('awaken-tasks tree');
  let db: Database.Database | undefined;
  let rows: Array<{ task_id: string; record: string }>;
  try {
    db = new Sqlite(path, { readonly: true, fileMustExist: true });
    rows = db.prepare('SELECT task_id, record FROM tasks').all() as Array<{
      task_id: string;
      record: string;
    }>;
  } catch (e) {
    const why = oneLine(e);
    if (/no such table/.test(why)) throw new CliError(`${path} is not an awaken-tasks store (${why})`);
    throw new CliError(`cannot read ${path}: ${why}`);
  } finally {
    db?.close();
  }
  const { records, corrupt } = decodeRows(rows);
  const byThread = new Map<string, PersistedTaskMeta[]>();
  for (const r of records) {
    if (threadId !== undefined && r.owner_thread_id !== threadId) continue;
    const list = byThread.get(r.owner_thread_id);
    if (list) list.push(r);
    else byThread.set(r.owner_thread_id, [r]);
  }
  if (threadId !== undefined && !byThread.has(threadId))
    throw new CliError(`unknown thread '${threadId}' in ${path}`);
  const threads = [...byThread.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([thread_id, metas]) => ({
      thread_id,
      tasks: metas.sort(byCreation).map(summaryFromMeta),
    }));
  return { threads, corrupt: corrupt.length };
}

const idNum = (id: string): number => {
  const m = /^bg_(\d+)$/.exec(id);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
};
const byCreation = (a: PersistedTaskMeta, b: PersistedTaskMeta): number =>
  a.created_at_ms - b.created_at_ms ||
  idNum(a.task_id) - idNum(b.task_id) ||
  (a.task_id < b.task_id ? -1 : 1);

/** A task-tree node as `tree --format json` writes it: the summary plus its children. */
export type JsonTreeNode = TaskSummary & { children: JsonTreeNode[] };

/**
 * Renders threads in a `tree` format. `json` is
 * `{ "threads": [{ "thread_id", "roots": [{ …summary, "children": […] }] }] }` (compact past
 * depth 100); `mermaid` and
 * `dot` draw every listed task in one diagram; `text` prints each thread under a header.
 *
 * @example
 * renderTree(readStoreThreads('./awaken-tasks.db').threads, 'json');
 */
export function renderTree(threads: readonly ThreadTasks[], format: TreeFormat, color = false): string {
  const all = threads.flatMap((t) => t.tasks);
  if (format === 'mermaid') return taskTreeToMermaid(all);
  if (format === 'dot') return taskTreeToDot(all);
  if (format === 'json') return `${jsonTree(threads)}\n`;
  if (threads.length === 0) return '(no tasks)\n';
  const out: string[] = [];
  for (const t of threads) {
    out.push(`thread ${t.thread_id} (${t.tasks.length} task${t.tasks.length === 1 ? '' : 's'})`);
    out.push(...renderTextTree(t.tasks, { color }).map((l) => `  ${l}`));
  }
  return `${out.join('\n')}\n`;
}
