/**
 * The demo's output: a live task tree redrawn in place with `log-update` on a TTY, plain lines
 * otherwise, or one JSON object per line with `--json`.
 */
import { styleText } from 'node:util';
import logUpdate from 'log-update';
import type { TaskChange } from '../supervisor/types.js';
import type { TaskSummary } from '../wire/types.js';
import { formatDuration, taskDuration } from '../graph/taskTree.js';
import { renderTextTree, SPINNER_FRAMES } from './textTree.js';

/** Which of the three outputs. */
export type ViewMode = 'live' | 'plain' | 'json';

/** What the demo tells its view. */
export interface DemoView {
  /** A task spawned or changed status. */
  change(change: TaskChange): void;
  /** A running task's progress, 0..1. */
  progress(taskId: string, fraction: number): void;
  /** A notable step of the script (a message sent, a subtree cancelled, restored orphans). */
  note(kind: string, text: string, data?: Record<string, unknown>): void;
  /** Draws the final state and stops redrawing. */
  finish(summaries: readonly TaskSummary[]): void;
}

/**
 * Makes the view for `mode`. `live` redraws header, tree and the last notes every 80 ms in place
 * (`log-update` erases the previous frame); `plain` writes one line per change and the final tree;
 * `json` one JSON object per line (`{"type":"spawned"|"updated"|"progress"|<note kind>, "t_ms", …}`).
 * `finish` is idempotent.
 *
 * @example
 * const view = createDemoView('plain', { header: 'demo', list: () => supervisor.list('demo') });
 */
export function createDemoView(
  mode: ViewMode,
  opts: { header: string; list: () => TaskSummary[]; write?: (line: string) => void },
): DemoView {
  const start = Date.now();
  const write = opts.write ?? ((l: string) => process.stdout.write(`${l}\n`));
  const t = (): string => `+${((Date.now() - start) / 1000).toFixed(2)}s`;
  if (mode === 'json') {
    const out = (o: Record<string, unknown>): void =>
      write(JSON.stringify({ t_ms: Date.now() - start, ...o }));
    return {
      change: (c) => out({ type: c.type, thread_id: c.thread_id, summary: c.summary }),
      progress: (task_id, fraction) => out({ type: 'progress', task_id, fraction }),
      note: (kind, text, data) => out({ type: kind, text, ...data }),
      finish: () => {},
    };
  }
  if (mode === 'plain') {
    const done = new Set<string>();
    let finished = false;
    return {
      change: ({ type, summary: s }) => {
        if (type === 'spawned') {
          const parent = s.parent_context?.task_id ? ` (parent ${s.parent_context.task_id})` : '';
          const queued = s.phase === 'queued' ? ' — queued (its type is at its limit)' : '';
          write(`${t()} spawned ${s.task_id} ${s.task_type} "${s.description}"${parent}${queued}`);
        } else if (s.status === 'running' && s.phase === 'waiting') {
          write(`${t()} waiting ${s.task_id} ${s.task_type} for input: ${JSON.stringify(s.input_request)}`);
        } else if (s.status !== 'running' && !done.has(s.task_id)) {
          done.add(s.task_id);
          const d = taskDuration(s);
          const err = s.error ? `: ${s.error}` : '';
          write(
            `${t()} ${s.status} ${s.task_id} ${s.task_type}${d === undefined ? '' : ` in ${formatDuration(d)}`}${err}`,
          );
        }
      },
      progress: () => {},
      note: (_kind, text) => write(`${t()} ${text}`),
      finish: (summaries) => {
        if (finished) return;
        finished = true;
        write('');
        for (const l of renderTextTree(summaries)) write(l);
      },
    };
  }
  const progress = new Map<string, number>();
  const notes: string[] = [];
  let frame = 0;
  const draw = (final: boolean): void => {
    const tree = renderTextTree(opts.list(), {
      color: true,
      spinner: styleText('cyan', SPINNER_FRAMES[frame++ % SPINNER_FRAMES.length]!),
      progress,
      now: Date.now(),
    });
    const shown = notes.slice(-5).map((n) => styleText('dim', `  ${n}`));
    logUpdate([styleText('bold', opts.header), '', ...tree, '', ...shown].join('\n'));
    if (final) logUpdate.done();
  };
  const timer = setInterval(() => draw(false), 80);
  let finished = false;
  return {
    change: () => {},
    progress: (id, f) => {
      progress.set(id, f);
    },
    note: (_kind, text) => {
      if (finished) write(text);
      else notes.push(`${t()} ${text}`);
    },
    finish: () => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      draw(true);
    },
  };
}
