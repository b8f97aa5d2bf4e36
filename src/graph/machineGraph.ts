/**
 * Mermaid, Graphviz DOT and JSON renderings of any XState machine (default: the task machine).
 */
import type { AnyStateMachine } from 'xstate';
import { taskMachine } from '../../machines/task.machine.js';
import { type MachineGraphJson, type MachineGraphNode, machineGraph } from './machineModel.js';
import { escapeDotString, escapeMermaidLabel } from './taskTree.js';

const mLabel = (text: string): string => escapeMermaidLabel(text).replace(/:/g, '#58;');

const nodeText = (n: MachineGraphNode): string =>
  n.type === 'history' ? (n.history === 'deep' ? 'H*' : 'H') : n.key;

/**
 * The JSON graph of a machine: its state nodes (with type, initial child, entry/exit actions,
 * invocations, tags) and its transitions (event, guard, delay, actions), JSON-safe.
 *
 * @example
 * toGraphJson().nodes.map((n) => n.path); // ['', 'running', 'running.active', …]
 */
export function toGraphJson(machine: AnyStateMachine = taskMachine): MachineGraphJson {
  return machineGraph(machine);
}

/**
 * A Mermaid `stateDiagram-v2` of a machine: compound and parallel states as nested blocks,
 * `[*]` initial markers and final-state arrows, every transition labelled with its event, guard
 * (`[guard]`) or delay (`after 500ms`). Labels are escaped with Mermaid entity codes.
 *
 * @example
 * console.log(toMermaid()); // stateDiagram-v2\n  [*] --> s1\n  state "running" as s1 { …
 */
export function toMermaid(machine: AnyStateMachine = taskMachine): string {
  const g = machineGraph(machine);
  const ids = new Map(g.nodes.map((n, i) => [n.id, `s${i}`]));
  const kids = childrenOf(g);
  const out = ['stateDiagram-v2'];
  const block = (parent: MachineGraphNode, indent: string): void => {
    const children = kids.get(parent.id) ?? [];
    if (parent.initial !== undefined) out.push(`${indent}[*] --> ${ids.get(parent.initial)}`);
    children.forEach((c, i) => {
      if (parent.type === 'parallel' && i > 0) out.push(`${indent}--`);
      const sid = ids.get(c.id)!;
      const grand = kids.get(c.id) ?? [];
      if (grand.length > 0) {
        out.push(`${indent}state "${mLabel(nodeText(c))}" as ${sid} {`);
        block(c, `${indent}  `);
        out.push(`${indent}}`);
      } else out.push(`${indent}state "${mLabel(nodeText(c))}" as ${sid}`);
      if (c.type === 'final') out.push(`${indent}${sid} --> [*]`);
    });
  };
  const root = g.nodes[0]!;
  // The root is the diagram itself, unless it has transitions of its own: then it is a block.
  if (g.edges.some((e) => e.source === root.id || e.target === root.id)) {
    out.push('  [*] --> s0', `  state "${mLabel(root.key)}" as s0 {`);
    block(root, '    ');
    out.push('  }');
  } else block(root, '  ');
  for (const e of g.edges) out.push(`  ${ids.get(e.source)} --> ${ids.get(e.target)} : ${mLabel(e.label)}`);
  return `${out.join('\n')}\n`;
}

function childrenOf(g: MachineGraphJson): Map<string, MachineGraphNode[]> {
  const kids = new Map<string, MachineGraphNode[]>();
  for (const n of g.nodes) {
    if (n.parent === undefined) continue;
    const list = kids.get(n.parent);
    if (list) list.push(n);
    else kids.set(n.parent, [n]);
  }
  return kids;
}

/**
 * A Graphviz DOT digraph of a machine: compound and parallel states as clusters (parallel ones
 * dashed) entered through their initial-marker point, final states double-bordered, history
 * states as `H`/`H*` circles; `after` edges dashed, `always` edges dotted. Render with `dot`.
 *
 * @example
 * execFileSync('dot', ['-Tsvg'], { input: toDot(supervisorMachine) });
 */
export function toDot(machine: AnyStateMachine = taskMachine): string {
  const g = machineGraph(machine);
  const ids = new Map(g.nodes.map((n, i) => [n.id, `s${i}`]));
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const kids = childrenOf(g);
  const isCluster = (id: string): boolean => (kids.get(id)?.length ?? 0) > 0;
  const q = (s: string): string => `"${escapeDotString(s)}"`;
  const out = [
    `digraph ${q(g.id)} {`,
    '  compound=true;',
    '  rankdir=LR;',
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  const emit = (n: MachineGraphNode, indent: string): void => {
    const sid = ids.get(n.id)!;
    if (isCluster(n.id)) {
      out.push(`${indent}subgraph cluster_${sid} {`);
      const style = n.type === 'parallel' ? 'dashed' : 'rounded';
      out.push(
        `${indent}  label=${q(nodeText(n))}; tooltip=${q(n.id)}; style=${style}; fontname="Helvetica";`,
      );
      // The anchor edges attach to: the initial marker, or an invisible point for a parallel state.
      const anchor = n.initial === undefined ? 'style=invis, width=0.01' : 'width=0.12';
      out.push(`${indent}  ${sid} [shape=point, ${anchor}, tooltip=${q(n.id)}];`);
      if (n.initial !== undefined) out.push(`${indent}  ${sid} -> ${anchorIn(n.initial)};`);
      for (const c of kids.get(n.id) ?? []) emit(c, `${indent}  `);
      out.push(`${indent}}`);
    } else if (n.type === 'history') {
      out.push(`${indent}${sid} [shape=circle, label=${q(nodeText(n))}, tooltip=${q(n.id)}];`);
    } else {
      const final = n.type === 'final' ? ', peripheries=2' : '';
      out.push(`${indent}${sid} [label=${q(nodeText(n))}, tooltip=${q(n.id)}${final}];`);
    }
  };
  const anchorIn = (id: string): string => ids.get(id)!;
  const within = (inner: string, outer: string): boolean => {
    for (let n = byId.get(inner); n; n = n.parent === undefined ? undefined : byId.get(n.parent)) {
      if (n.id === outer) return true;
    }
    return false;
  };
  emit(g.nodes[0]!, '  ');
  for (const e of g.edges) {
    const attrs = [`label=${q(e.label)}`];
    if (isCluster(e.source) && !within(e.target, e.source)) attrs.push(`ltail=cluster_${ids.get(e.source)}`);
    if (isCluster(e.target) && !within(e.source, e.target)) attrs.push(`lhead=cluster_${ids.get(e.target)}`);
    if (e.kind === 'after') attrs.push('style=dashed');
    if (e.kind === 'always') attrs.push('style=dotted');
    if (e.internal) attrs.push('color="#6c757d"');
    out.push(`  ${ids.get(e.source)} -> ${ids.get(e.target)} [${attrs.join(', ')}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
