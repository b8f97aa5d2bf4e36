import { describe, expect, it } from 'vitest';
import {
  buildTaskForest,
  escapeDotString,
  escapeMermaidLabel,
  STATUS_COLORS,
  taskTreeToDot,
  taskTreeToMermaid,
  walkTaskForest,
} from '../../src/graph/index.js';
import type { TaskSummary } from '../../src/wire/types.js';
import { mermaidSuite, renderDot } from './consumers.js';

const sum = (
  id: string,
  status: TaskSummary['status'],
  parent?: string,
  extra: Partial<TaskSummary> = {},
): TaskSummary => ({
  task_id: id,
  task_type: 'shell',
  description: `task ${id}`,
  status,
  created_at_ms: 1000,
  ...(status === 'running' ? {} : { completed_at_ms: 2500 }),
  ...(parent === undefined ? {} : { parent_context: { task_id: parent } }),
  ...extra,
});

const HOSTILE = 'a "quoted" <b>bold</b> & #35; ; `tick` \\ back\nnew line {x} [y] (z) | %% end -->';

const everyStatus: TaskSummary[] = [
  sum('bg_0', 'running', undefined, { task_type: 'sub_agent', description: HOSTILE }),
  sum('bg_1', 'completed', 'bg_0'),
  sum('bg_2', 'failed', 'bg_0', { error: 'boom' }),
  sum('bg_3', 'cancelled', 'bg_1'),
  sum('bg_4', 'running', 'bg_elsewhere'), // parent not in the list → a root
  sum('end', 'cancelled', 'graph', { task_type: 'subgraph', description: 'style' }), // mermaid keywords as data
  sum('graph', 'failed', 'end'), // a two-cycle
];

describe('buildTaskForest', () => {
  it('makes a root of a task whose parent is not listed and keeps children in input order', () => {
    const forest = buildTaskForest(everyStatus);
    expect(forest.map((n) => n.summary.task_id)).toEqual(['bg_0', 'bg_4', 'end']);
    expect(forest[0]!.children.map((n) => n.summary.task_id)).toEqual(['bg_1', 'bg_2']);
    expect(forest[0]!.children[0]!.children[0]!.depth).toBe(2);
  });

  it('is cycle-safe: a cycle is broken at its first task and every task appears exactly once', () => {
    const cyc = [
      sum('a', 'running', 'c'),
      sum('b', 'running', 'a'),
      sum('c', 'running', 'b'),
      sum('s', 'running', 's'),
    ];
    const ids = walkTaskForest(buildTaskForest(cyc)).map((n) => n.summary.task_id);
    expect(ids.sort()).toEqual(['a', 'b', 'c', 's']);
    expect(buildTaskForest(cyc).map((n) => n.summary.task_id)).toEqual(['s', 'a']);
  });

  it('handles a 50 000-deep chain without overflowing the stack', () => {
    const chain = Array.from({ length: 50_000 }, (_, i) =>
      sum(`bg_${i}`, 'running', i ? `bg_${i - 1}` : undefined),
    );
    expect(walkTaskForest(buildTaskForest(chain))).toHaveLength(50_000);
  });
});

describe('escaping', () => {
  it('leaves no Mermaid syntax characters in a label', () => {
    const escaped = escapeMermaidLabel(HOSTILE);
    expect(escaped).not.toMatch(/["<>`\\\n|{}[\]()%&]/);
    expect(escaped.replace(/#[a-z0-9]+;/g, '')).not.toMatch(/[#;]/);
    expect(escapeMermaidLabel('a"b')).toBe('a#quot;b');
  });
  it('escapes DOT strings', () => {
    expect(escapeDotString('a"b\\c\nd\u0007')).toBe('a\\"b\\\\c\\nd');
  });
});

describe('taskTreeToDot', () => {
  it('colours each node by status with the fixed palette and draws parent → child edges', () => {
    const dot = taskTreeToDot(everyStatus);
    for (const status of ['running', 'completed', 'failed', 'cancelled'] as const) {
      expect(dot).toContain(`fillcolor="${STATUS_COLORS[status].fill}"`);
    }
    expect(dot).toContain('completed · 1.5s');
    expect(dot.match(/ -> /g)).toHaveLength(4);
  });

  it('is rendered by Graphviz dot -Tsvg without warnings (every status, hostile labels, empty)', () => {
    for (const src of [taskTreeToDot(everyStatus), taskTreeToDot([])]) {
      const r = renderDot(src);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.svg).toContain('<svg');
    }
    expect(renderDot(taskTreeToDot(everyStatus)).svg).toContain('a &quot;quoted&quot; &lt;b&gt;bold');
  });
});

describe('taskTreeToMermaid (mermaid in headless Chromium)', () => {
  const mermaid = mermaidSuite();

  it('parses and renders a tree with every status and hostile labels, showing the text intact', async () => {
    const text = taskTreeToMermaid(everyStatus);
    expect(text).toContain(`classDef st_failed fill:${STATUS_COLORS.failed.fill}`);
    const r = await mermaid.check(text);
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    // The label survives as text, not as markup.
    expect(r.svg).not.toContain('<b>bold</b>');
    expect(r.svg).toContain('quoted');
  });

  it('parses the empty tree', async () => {
    expect((await mermaid.check(taskTreeToMermaid([]))).ok).toBe(true);
  });

  it('the consumer really rejects broken input (the check is not vacuous)', async () => {
    expect((await mermaid.check('flowchart TD\n  a["x " y"] --> b\n')).ok).toBe(false);
    expect(renderDot('digraph { a [label="x" y"] }').status).not.toBe(0);
  });
});
