/**
 * Task trees: the forest that `parent_context.task_id` draws over a list of summaries, and its
 * Mermaid and Graphviz renderings, each node coloured by status.
 */
import type { TaskPhase, TaskStatus, TaskSummary } from '../wire/types.js';

/** One node of a task forest: a summary and its children, in input (creation) order. */
export interface TaskTreeNode {
  readonly summary: TaskSummary;
  readonly children: TaskTreeNode[];
  /** 0 for a root. */
  readonly depth: number;
}

/** Colours of one status: node fill, border and text. */
export interface StatusColor {
  readonly fill: string;
  readonly stroke: string;
  readonly text: string;
}

/**
 * The fixed palette every renderer uses (Mermaid, DOT, the terminal view and the inspector).
 *
 * @example
 * STATUS_COLORS.failed.fill; // '#f8d7da'
 */
export const STATUS_COLORS: Readonly<Record<TaskStatus, StatusColor>> = Object.freeze({
  running: Object.freeze({ fill: '#cfe2ff', stroke: '#0d6efd', text: '#052c65' }),
  completed: Object.freeze({ fill: '#d1e7dd', stroke: '#198754', text: '#0a3622' }),
  failed: Object.freeze({ fill: '#f8d7da', stroke: '#dc3545', text: '#58151c' }),
  cancelled: Object.freeze({ fill: '#e2e3e5', stroke: '#6c757d', text: '#2b2f32' }),
});

/**
 * Colours of the phases of a `running` task (the summary's `phase`): queued for a slot, waiting
 * for input, retrying. The inspector paints such a task in these instead of `running`'s.
 *
 * @example
 * PHASE_COLORS.waiting.fill; // '#fff3cd'
 */
export const PHASE_COLORS: Readonly<Record<TaskPhase, StatusColor>> = Object.freeze({
  queued: Object.freeze({ fill: '#e0cffc', stroke: '#6f42c1', text: '#290661' }),
  waiting: Object.freeze({ fill: '#fff3cd', stroke: '#ffc107', text: '#664d03' }),
  retrying: Object.freeze({ fill: '#ffe5d0', stroke: '#fd7e14', text: '#653208' }),
});

/**
 * Builds the forest of `summaries` by `parent_context.task_id`. A task whose parent is absent
 * from the list (or is itself) is a root. Cycle-safe: a cycle with no way in is broken at its
 * first task in input order, which becomes a root. Duplicate ids keep their first occurrence.
 * Roots and children keep the input order.
 *
 * @example
 * const [root] = buildTaskForest(supervisor.list('thread-1'));
 * root?.children.map((c) => c.summary.task_id);
 */
export function buildTaskForest(summaries: readonly TaskSummary[]): TaskTreeNode[] {
  const byId = new Map<string, TaskSummary>();
  for (const s of summaries) if (!byId.has(s.task_id)) byId.set(s.task_id, s);
  const kids = new Map<string, TaskSummary[]>();
  const rootIds: string[] = [];
  for (const s of byId.values()) {
    const parent = s.parent_context?.task_id;
    if (parent === undefined || parent === s.task_id || !byId.has(parent)) rootIds.push(s.task_id);
    else {
      const list = kids.get(parent);
      if (list) list.push(s);
      else kids.set(parent, [s]);
    }
  }
  const seen = new Set<string>();
  const grow = (summary: TaskSummary, depth: number): TaskTreeNode => {
    const node: TaskTreeNode = { summary, children: [], depth };
    // Iterative, so a 100 000-deep chain cannot overflow the stack.
    const stack: TaskTreeNode[] = [node];
    seen.add(summary.task_id);
    while (stack.length > 0) {
      const cur = stack.pop()!;
      for (const child of kids.get(cur.summary.task_id) ?? []) {
        if (seen.has(child.task_id)) continue;
        seen.add(child.task_id);
        const c: TaskTreeNode = { summary: child, children: [], depth: cur.depth + 1 };
        cur.children.push(c);
        stack.push(c);
      }
    }
    return node;
  };
  const forest = rootIds.map((id) => grow(byId.get(id)!, 0));
  // Whatever is left sits on a parent cycle: break each one at its first task.
  for (const s of byId.values()) if (!seen.has(s.task_id)) forest.push(grow(s, 0));
  return forest;
}

/**
 * Every node of a forest, parents before children (depth-first, in order).
 *
 * @example
 * walkTaskForest(buildTaskForest(list)).map((n) => n.summary.task_id); // ['bg_0', 'bg_1', …]
 */
export function walkTaskForest(forest: readonly TaskTreeNode[]): TaskTreeNode[] {
  const out: TaskTreeNode[] = [];
  const stack = [...forest].reverse();
  while (stack.length > 0) {
    const node = stack.pop()!;
    out.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return out;
}

/**
 * A short human duration: `850ms`, `1.2s`, `3m 05s`, `2h 07m`.
 *
 * @example
 * formatDuration(1234); // '1.2s'
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * How long a terminal task ran (`completed_at_ms − created_at_ms`), else `undefined`.
 *
 * @example
 * taskDuration({ ...summary, status: 'completed', created_at_ms: 0, completed_at_ms: 1200 }); // 1200
 */
export function taskDuration(s: TaskSummary): number | undefined {
  if (s.status === 'running' || s.completed_at_ms === undefined) return undefined;
  return s.completed_at_ms - s.created_at_ms;
}

const MAX_DESCRIPTION = 80;

/**
 * The lines of a node label: `task_id · task_type`, the description (truncated to 80 chars, one
 * line), then the status with the duration when terminal. Unescaped; each renderer escapes.
 *
 * @example
 * taskLabelLines(summary); // ['bg_0 · research', 'find sources', 'completed · 1.2s']
 */
export function taskLabelLines(s: TaskSummary): string[] {
  const d = taskDuration(s);
  let desc = s.description.replace(/\s+/g, ' ').trim();
  if ([...desc].length > MAX_DESCRIPTION) desc = `${[...desc].slice(0, MAX_DESCRIPTION - 1).join('')}…`;
  const lines = [`${s.task_id} · ${s.task_type}`];
  if (desc !== '') lines.push(desc);
  const status = s.status === 'running' && s.phase !== undefined ? `${s.status} · ${s.phase}` : s.status;
  lines.push(d === undefined ? status : `${status} · ${formatDuration(d)}`);
  return lines;
}

const wellFormed = (s: string): string =>
  (s as string & { toWellFormed?: () => string }).toWellFormed?.() ?? s;

/**
 * Escapes text for a quoted Mermaid flowchart label (`id["…"]`): every character Mermaid or the
 * HTML it makes could read as syntax becomes an entity code (`#35;` for `#`, `#quot;` …), so a
 * label can never end the string, start a comment or inject markup.
 *
 * @example
 * escapeMermaidLabel('a "b"; <c>'); // 'a #quot;b#quot;#59; #lt;c#gt;'
 */
export function escapeMermaidLabel(text: string): string {
  let out = '';
  for (const ch of wellFormed(text)) {
    if (ch === '"') out += '#quot;';
    else if (ch === '<') out += '#lt;';
    else if (ch === '>') out += '#gt;';
    else if (ch === '&') out += '#amp;';
    else if (ch === '\n') out += ' ';
    else if (/[#;`\\|{}[\]()%]/.test(ch) || /\p{Cc}/u.test(ch)) out += `#${ch.codePointAt(0)};`;
    else out += ch;
  }
  return out;
}

/**
 * Escapes text for a double-quoted DOT string (`label="…"`): backslashes and quotes are escaped,
 * line breaks become `\n`, other control characters are dropped.
 *
 * @example
 * escapeDotString('say "hi"'); // 'say \\"hi\\"'
 */
export function escapeDotString(text: string): string {
  let out = '';
  for (const ch of wellFormed(text)) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (/\p{Cc}/u.test(ch)) continue;
    else out += ch;
  }
  return out;
}

const STATUS_ORDER: readonly TaskStatus[] = ['running', 'completed', 'failed', 'cancelled'];

/**
 * A Mermaid flowchart of the task forest: one node per task (labelled with id, type,
 * description, status and duration), an arrow from each parent to its children, and a
 * `classDef` per status coloured from {@link STATUS_COLORS}.
 *
 * @example
 * const text = taskTreeToMermaid(supervisor.list('demo'));
 * // flowchart TD\n  t0["bg_0 · research<br/>…"]\n  t0 --> t1 …
 */
export function taskTreeToMermaid(summaries: readonly TaskSummary[]): string {
  const nodes = walkTaskForest(buildTaskForest(summaries));
  const ids = new Map(nodes.map((n, i) => [n.summary.task_id, `t${i}`]));
  const out = ['flowchart TD'];
  if (nodes.length === 0) out.push('  empty["(no tasks)"]');
  for (const n of nodes) {
    const label = taskLabelLines(n.summary).map(escapeMermaidLabel).join('<br/>');
    out.push(`  ${ids.get(n.summary.task_id)}["${label}"]`);
  }
  for (const n of nodes) {
    for (const c of n.children) out.push(`  ${ids.get(n.summary.task_id)} --> ${ids.get(c.summary.task_id)}`);
  }
  for (const status of STATUS_ORDER) {
    const c = STATUS_COLORS[status];
    out.push(`  classDef st_${status} fill:${c.fill},stroke:${c.stroke},color:${c.text}`);
    const members = nodes.filter((n) => n.summary.status === status).map((n) => ids.get(n.summary.task_id));
    if (members.length > 0) out.push(`  class ${members.join(',')} st_${status}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * A Graphviz DOT digraph of the task forest: one rounded, filled box per task coloured by status
 * from {@link STATUS_COLORS}, an edge from each parent to its children. Render with `dot -Tsvg`.
 *
 * @example
 * writeFileSync('tree.dot', taskTreeToDot(supervisor.list('demo')));
 */
export function taskTreeToDot(summaries: readonly TaskSummary[]): string {
  const nodes = walkTaskForest(buildTaskForest(summaries));
  const ids = new Map(nodes.map((n, i) => [n.summary.task_id, `t${i}`]));
  const out = [
    'digraph tasks {',
    '  rankdir=TB;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
    '  edge [color="#6c757d"];',
  ];
  if (nodes.length === 0) out.push('  empty [label="(no tasks)", style="rounded,dashed"];');
  for (const n of nodes) {
    const s = n.summary;
    const c = STATUS_COLORS[s.status] ?? STATUS_COLORS.running;
    const label = taskLabelLines(s).map(escapeDotString).join('\\n');
    out.push(
      `  ${ids.get(s.task_id)} [label="${label}", tooltip="${escapeDotString(s.task_id)}", ` +
        `fillcolor="${c.fill}", color="${c.stroke}", fontcolor="${c.text}"];`,
    );
  }
  for (const n of nodes) {
    for (const ch of n.children)
      out.push(`  ${ids.get(n.summary.task_id)} -> ${ids.get(ch.summary.task_id)};`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
