import { describe, expect, it } from 'vitest';
import { jsonTree, MAX_PRETTY_DEPTH } from '../../src/cli/jsonTree.js';
import { renderTextTree } from '../../src/cli/textTree.js';
import { renderTree } from '../../src/cli/tree.js';
import type { TaskSummary } from '../../src/wire/types.js';

const task = (
  id: number,
  parent?: number,
  extra: { [K in keyof TaskSummary]?: TaskSummary[K] | undefined } = {},
): TaskSummary => ({
  task_id: `bg_${id}`,
  task_type: 'work',
  description: `task ${id}`,
  status: 'completed',
  created_at_ms: 1_000 + id,
  completed_at_ms: 1_500 + id,
  ...(parent === undefined ? {} : { parent_context: { task_id: `bg_${parent}` } }),
  ...(extra as Partial<TaskSummary>),
});

/** The recursive shape `tree --format json` always had, for comparison. */
type Node = TaskSummary & { children: Node[] };
function recursiveJson(threads: Array<{ thread_id: string; tasks: TaskSummary[] }>): string {
  const build = (tasks: TaskSummary[], parent: string | undefined): Node[] =>
    tasks
      .filter((t) => t.parent_context?.task_id === parent)
      .map((t) => ({ ...t, children: build(tasks, t.task_id) }));
  return JSON.stringify(
    { threads: threads.map((t) => ({ thread_id: t.thread_id, roots: build(t.tasks, undefined) })) },
    null,
    2,
  );
}

function chain(depth: number): TaskSummary[] {
  const out: TaskSummary[] = [task(0)];
  for (let i = 1; i <= depth; i++) out.push(task(i, i - 1));
  return out;
}

describe('awaken-tasks tree walks iteratively (issue 11: depth 100,000 works)', () => {
  it('json: byte for byte what JSON.stringify(…, null, 2) wrote, for shallow forests', () => {
    const threads = [
      {
        thread_id: 'alpha',
        tasks: [
          task(0),
          task(1, 0, { status: 'failed', error: 'boom\nline 2', result: { nested: [1, { a: 'b' }] } }),
          task(2, 0),
          task(3, 2, { status: 'running', completed_at_ms: undefined }),
          task(4),
        ],
      },
      { thread_id: 'empty "q"', tasks: [] },
      { thread_id: 'beta', tasks: [task(5, undefined, { result: [] })] },
    ];
    expect(jsonTree(threads)).toBe(recursiveJson(threads));
    expect(jsonTree([])).toBe(recursiveJson([]));
  });

  it('text, json, mermaid and dot render a 100 000-deep chain', () => {
    const tasks = chain(100_000);
    const threads = [{ thread_id: 'deep', tasks }];
    const text = renderTree(threads, 'text').split('\n');
    expect(text[0]).toBe('thread deep (100001 tasks)');
    expect(text).toHaveLength(100_003); // header, one line per task, trailing newline
    expect(text[100_001]).toContain('⋯100000 ✓ bg_100000');
    // Indentation stops growing: no line is longer than a shallow one plus the guides.
    expect(Math.max(...text.map((l) => l.length))).toBeLessThan(250);
    const json = renderTree(threads, 'json');
    let node = (JSON.parse(json) as { threads: [{ roots: [Node] }] }).threads[0].roots[0];
    let depth = 0;
    while (node.children.length > 0) {
      node = node.children[0]!;
      depth++;
    }
    expect(depth).toBe(100_000);
    expect(node.task_id).toBe('bg_100000');
    expect(renderTree(threads, 'mermaid')).toContain('t99999 --> t100000');
    expect(renderTree(threads, 'dot')).toContain('t99999 -> t100000;');
  }, 60_000);

  it(`json is indented up to depth ${MAX_PRETTY_DEPTH} and compact beyond it`, () => {
    const pretty = jsonTree([{ thread_id: 't', tasks: chain(MAX_PRETTY_DEPTH) }]);
    expect(pretty).toBe(recursiveJson([{ thread_id: 't', tasks: chain(MAX_PRETTY_DEPTH) }]));
    const compact = jsonTree([{ thread_id: 't', tasks: chain(MAX_PRETTY_DEPTH + 1) }]);
    expect(compact).not.toContain('\n');
    expect(JSON.parse(compact)).toEqual(
      JSON.parse(recursiveJson([{ thread_id: 't', tasks: chain(MAX_PRETTY_DEPTH + 1) }])),
    );
  });

  it('text keeps its guides for shallow trees', () => {
    expect(renderTextTree([task(0), task(1, 0), task(2, 1), task(3, 0)])).toEqual([
      '✓ bg_0 work task 0 completed 500ms',
      '├─ ✓ bg_1 work task 1 completed 500ms',
      '│  └─ ✓ bg_2 work task 2 completed 500ms',
      '└─ ✓ bg_3 work task 3 completed 500ms',
    ]);
  });
});

describe('tree: durable tasks (issue 21)', () => {
  it('shows the attempt, and while retrying the last error and when the next attempt comes', () => {
    const lines = renderTextTree(
      [
        task(1, undefined, {
          status: 'running',
          completed_at_ms: undefined,
          phase: 'retrying',
          attempt: 2,
          max_attempts: 5,
          last_error: 'ECONNRESET\nagain',
          next_attempt_at_ms: 9_000,
        }),
        task(2, undefined, { status: 'completed', attempt: 3, max_attempts: 3 }),
        task(3),
      ],
      { now: 5_000 },
    );
    expect(lines[0]).toContain(
      '↻ bg_1 work task 1 retrying attempt 2/5 (last error: ECONNRESET again; next in 4',
    );
    expect(lines[1]).toContain('attempt 3/3');
    expect(lines[2]).not.toContain('attempt');
  });
});
