/** Plain-text task trees for the terminal: `tree --format text` and the demo's live view. */
import { styleText } from 'node:util';
import { buildTaskForest, formatDuration, type TaskTreeNode, taskDuration } from '../graph/taskTree.js';
import type { TaskStatus, TaskSummary } from '../wire/types.js';

/** How to draw a text tree. */
export interface TextTreeOptions {
  /** ANSI colours (only for a TTY). Default `false`. */
  color?: boolean;
  /** Spinner frame for running tasks (the live view advances it); default a static `●`. */
  spinner?: string;
  /** Progress of running tasks, 0..1, by task id: drawn as a bar. */
  progress?: ReadonlyMap<string, number>;
  /** The clock, for the elapsed time of running tasks. */
  now?: number;
}

/**
 * Frames of the live view's spinner.
 *
 * @example
 * SPINNER_FRAMES[tick % SPINNER_FRAMES.length];
 */
export const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;

const ICONS: Record<Exclude<TaskStatus, 'running'>, string> = { completed: '✓', failed: '✗', cancelled: '⊘' };
const COLORS = { running: 'cyan', completed: 'green', failed: 'red', cancelled: 'gray' } as const;
/** Queued and waiting tasks are `running` on the wire: their own icon and colour say which. */
const PHASE_ICONS = { queued: '◌', waiting: '?', retrying: '↻' } as const;
const PHASE_COLORS = { queued: 'blue', waiting: 'yellow', retrying: 'magenta' } as const;

/** `tokens 1200, $0.0040, 3 tool calls`: a task's reported usage, for the tree. */
function usageText(s: TaskSummary): string | undefined {
  const u = s.usage;
  if (u === undefined) return undefined;
  const out: string[] = [];
  if (u.tokens !== undefined) out.push(`${u.tokens} tokens`);
  if (u.cost_usd !== undefined) out.push(`$${u.cost_usd.toFixed(4)}`);
  if (u.tool_calls !== undefined) out.push(`${u.tool_calls} tool calls`);
  return out.length === 0 ? undefined : `[${out.join(', ')}]`;
}

/**
 * A progress bar of `width` cells: `███░░░ 50%`.
 *
 * @example
 * progressBar(0.5, 6); // '███░░░  50%'
 */
export function progressBar(fraction: number, width = 12): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)} ${String(Math.round(f * 100)).padStart(3)}%`;
}

function line(node: TaskTreeNode, opts: TextTreeOptions): string {
  const s = node.summary;
  const phase = s.status === 'running' ? s.phase : undefined;
  const color = phase === undefined ? (COLORS[s.status] ?? 'white') : PHASE_COLORS[phase];
  const paint = (text: string): string => (opts.color ? styleText(color, text) : text);
  const icon =
    phase !== undefined
      ? PHASE_ICONS[phase]
      : s.status === 'running'
        ? (opts.spinner ?? '●')
        : ICONS[s.status];
  const parts = [paint(icon), s.task_id, paint(s.task_type), s.description.replace(/\s+/g, ' ')];
  const d = taskDuration(s);
  if (phase !== undefined) parts.push(paint(phase));
  // A durable task: which attempt, and while it waits for the next one, when and after what error.
  if (s.max_attempts !== undefined && s.attempt !== undefined && s.attempt > 0) {
    parts.push(`attempt ${s.attempt}/${s.max_attempts}`);
    if (phase === 'retrying' && s.last_error !== undefined) {
      const at = s.next_attempt_at_ms;
      const when =
        at !== undefined && opts.now !== undefined
          ? ` next in ${formatDuration(Math.max(0, at - opts.now))}`
          : '';
      parts.push(`(last error: ${s.last_error.replace(/\s+/g, ' ')};${when || ' next attempt pending'})`);
    }
  }
  const usage = usageText(s);
  if (usage !== undefined) parts.push(usage);
  if (s.status === 'running') {
    const p = opts.progress?.get(s.task_id);
    if (p !== undefined) parts.push(progressBar(p));
    if (opts.now !== undefined) parts.push(formatDuration(opts.now - s.created_at_ms));
  } else {
    parts.push(paint(d === undefined ? s.status : `${s.status} ${formatDuration(d)}`));
    if (s.error !== undefined) parts.push(`(${s.error.replace(/\s+/g, ' ')})`);
    else if (s.stop_reason !== undefined) parts.push(`(${s.stop_reason})`);
  }
  return parts.join(' ');
}

/**
 * Draws the forest of `summaries` with box-drawing guides, one task per line: status icon (a
 * spinner while running), id, type, description, then a progress bar and elapsed time, or the
 * final status, duration and error.
 *
 * @example
 * console.log(renderTextTree(supervisor.list('demo')).join('\n'));
 */
export function renderTextTree(summaries: readonly TaskSummary[], opts: TextTreeOptions = {}): string[] {
  const out: string[] = [];
  // An explicit stack, so a 100 000-deep chain cannot overflow the call stack.
  const stack: Frame[] = buildTaskForest(summaries)
    .reverse()
    .map((node) => ({ node, prefix: '', last: true, root: true }));
  while (stack.length > 0) {
    const { node, prefix, last, root } = stack.pop()!;
    // Past MAX_GUIDES levels the guides stop growing (each line would otherwise be O(depth) long)
    // and the line shows its depth instead.
    const deep = node.depth > MAX_GUIDES ? `⋯${node.depth} ` : '';
    out.push(`${root ? '' : `${prefix}${last ? '└─ ' : '├─ '}`}${deep}${line(node, opts)}`);
    const next = root || node.depth >= MAX_GUIDES ? prefix : `${prefix}${last ? '   ' : '│  '}`;
    for (let i = node.children.length - 1; i >= 0; i--) {
      stack.push({
        node: node.children[i]!,
        prefix: next,
        last: i === node.children.length - 1,
        root: false,
      });
    }
  }
  return out;
}

/** Levels drawn with guides; deeper tasks are drawn at this indentation, labelled with their depth. */
const MAX_GUIDES = 40;

interface Frame {
  node: TaskTreeNode;
  prefix: string;
  last: boolean;
  root: boolean;
}
