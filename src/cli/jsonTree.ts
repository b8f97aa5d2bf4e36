/** `tree --format json`: the task forests of several threads, written without recursion. */
import { buildTaskForest, type TaskTreeNode } from '../graph/taskTree.js';
import type { TaskSummary } from '../wire/types.js';

/** Up to this depth the JSON is indented as `JSON.stringify(…, null, 2)`; deeper forests are written compact. */
export const MAX_PRETTY_DEPTH = 100;

type Step =
  | { open: TaskTreeNode; level: number; last: boolean }
  | { close: true; level: number; last: boolean };

/**
 * The JSON of `tree --format json`:
 * `{ "threads": [{ "thread_id", "roots": [{ …summary, "children": […] }] }] }`, byte for byte what
 * `JSON.stringify(value, null, 2)` writes — but built with an explicit stack, so a 100 000-deep
 * chain neither overflows the call stack nor (being written compact past `MAX_PRETTY_DEPTH`)
 * grows quadratically with its indentation.
 *
 * @example
 * jsonTree([{ thread_id: 't', tasks: supervisor.list('t') }]); // '{\n  "threads": [ …'
 */
export function jsonTree(
  threads: ReadonlyArray<{ thread_id: string; tasks: readonly TaskSummary[] }>,
): string {
  const forests = threads.map((t) => ({ thread_id: t.thread_id, roots: buildTaskForest(t.tasks) }));
  let deepest = 0;
  for (const f of forests) for (const root of f.roots) deepest = Math.max(deepest, maxDepth(root));
  const pretty = deepest <= MAX_PRETTY_DEPTH;
  const nl = pretty ? '\n' : '';
  const colon = pretty ? ': ' : ':';
  const ind = (level: number): string => (pretty ? '  '.repeat(level) : '');
  const value = (v: unknown, level: number): string =>
    pretty ? JSON.stringify(v, null, 2).replace(/\n/g, `\n${ind(level)}`) : JSON.stringify(v);

  const out: string[] = [];
  out.push(`{${nl}${ind(1)}"threads"${colon}[`);
  if (forests.length === 0) out.push(`]${nl}}`);
  forests.forEach((f, ti) => {
    out.push(`${nl}${ind(2)}{${nl}${ind(3)}"thread_id"${colon}${JSON.stringify(f.thread_id)},${nl}`);
    out.push(`${ind(3)}"roots"${colon}[`);
    if (f.roots.length === 0) out.push(']');
    else {
      const stack: Step[] = [];
      for (let i = f.roots.length - 1; i >= 0; i--)
        stack.push({ open: f.roots[i]!, level: 4, last: i === f.roots.length - 1 });
      out.push(nl);
      while (stack.length > 0) {
        const step = stack.pop()!;
        const comma = step.last ? '' : ',';
        if ('close' in step) {
          out.push(`${ind(step.level + 1)}]${nl}${ind(step.level)}}${comma}${nl}`);
          continue;
        }
        const { open: node, level } = step;
        out.push(`${ind(level)}{${nl}`);
        for (const [key, v] of Object.entries(node.summary)) {
          if (v === undefined) continue;
          out.push(`${ind(level + 1)}${JSON.stringify(key)}${colon}${value(v, level + 1)},${nl}`);
        }
        if (node.children.length === 0) {
          out.push(`${ind(level + 1)}"children"${colon}[]${nl}${ind(level)}}${comma}${nl}`);
          continue;
        }
        out.push(`${ind(level + 1)}"children"${colon}[${nl}`);
        stack.push({ close: true, level, last: step.last });
        for (let i = node.children.length - 1; i >= 0; i--) {
          stack.push({ open: node.children[i]!, level: level + 2, last: i === node.children.length - 1 });
        }
      }
      out.push(`${ind(3)}]`);
    }
    out.push(`${nl}${ind(2)}}${ti === forests.length - 1 ? `${nl}${ind(1)}]${nl}}` : ','}`);
  });
  return out.join('');
}

function maxDepth(root: TaskTreeNode): number {
  let deepest = 0;
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.depth > deepest) deepest = node.depth;
    for (const c of node.children) stack.push(c);
  }
  return deepest;
}
