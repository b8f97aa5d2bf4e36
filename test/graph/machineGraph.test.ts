import { describe, expect, it } from 'vitest';
import { and, createActor, createMachine, fromPromise, not } from 'xstate';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import { taskMachine } from '../../machines/task.machine.js';
import { lifecycleEvent, lifecyclePaths, toDot, toGraphJson, toMermaid } from '../../src/graph/index.js';
import { dottedState } from '../../src/graph/lifecycle.js';
import { mermaidSuite, renderDot } from './consumers.js';

/** Everything XState v5 has: nesting, parallel regions, history, guards, delays, always, invoke. */
const richMachine = createMachine({
  id: 'rich "machine" <x>',
  initial: 'idle',
  on: { RESET: '.idle', 'LOG;#': { actions: () => {} } },
  states: {
    idle: {
      on: {
        GO: { guard: and(['isReady', not('isBusy')]), target: 'work' },
        MAYBE: [{ guard: ({ event }) => event.type === 'MAYBE', target: 'work' }, { target: 'done' }],
        PING: { actions: 'log' },
      },
      after: { 1500: 'work', slowDelay: 'done' },
      always: { guard: 'never', target: 'done' },
    },
    work: {
      initial: 'fetch',
      invoke: {
        id: 'loader',
        src: fromPromise(async () => 1),
        onDone: '#rich "machine" <x>.both',
        onError: 'idle',
      },
      states: {
        fetch: { on: { NEXT: 'hist' } },
        'a "quoted" <b>state</b>;#': { type: 'final' },
        hist: { type: 'history', history: 'deep' },
      },
      onDone: 'both',
    },
    both: {
      type: 'parallel',
      states: {
        left: { initial: 'l1', states: { l1: { on: { L: 'l2' } }, l2: { type: 'final' } } },
        right: { initial: 'r1', states: { r1: { on: { R: 'r2' } }, r2: { type: 'final' } } },
      },
      onDone: 'done',
    },
    done: { type: 'final' },
  },
});

const machines = { taskMachine, supervisorMachine, richMachine } as const;

describe('toGraphJson', () => {
  it('describes the task machine: nesting, finals, initial markers, guards and the grace delay', () => {
    const g = toGraphJson();
    expect(g.id).toBe('task');
    const byPath = Object.fromEntries(g.nodes.map((n) => [n.path, n]));
    expect(byPath.running?.type).toBe('compound');
    expect(byPath.running?.initial).toBe('task.running.active');
    expect(['completed', 'failed', 'cancelled'].map((p) => byPath[p]?.type)).toEqual([
      'final',
      'final',
      'final',
    ]);
    expect(byPath['running.cancelling']?.entry).toEqual(['abortBody', 'armGrace']);
    expect(byPath['running.active']?.entry).toEqual(['armDeadline']);
    expect(byPath.completed?.entry).toEqual([]);
    const labels = g.edges.map((e) => `${e.source} -> ${e.target}: ${e.label}`);
    expect(labels).toContain('task.running.active -> task.completed: task.settled [returnedSuccess]');
    expect(labels).toContain('task.running.cancelling -> task.cancelled: after cancelGrace');
    expect(labels).toContain('task.running.active -> task.running.cancelling: after deadline');
    expect(labels).toContain('task.running.active -> task.running.cancelling: task.cancel');
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });

  it('covers any machine: history, parallel, always, numeric delays, higher-order guards, invoke, targetless', () => {
    const g = toGraphJson(richMachine);
    const kinds = new Set(g.edges.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['after', 'always', 'done', 'error', 'event']);
    expect(g.edges.map((e) => e.label)).toEqual(
      expect.arrayContaining([
        'GO [and(isReady, not(isBusy))]',
        'after 1500ms',
        'after slowDelay',
        'always [never]',
        'error: loader',
      ]),
    );
    expect(g.nodes.find((n) => n.type === 'history')?.history).toBe('deep');
    expect(g.nodes.find((n) => n.key === 'both')?.type).toBe('parallel');
    expect(g.edges.find((e) => e.event === 'PING')).toMatchObject({ internal: true, actions: ['log'] });
  });
});

describe.each(Object.entries(machines))('%s renders in the real consumers', (name, machine) => {
  it('dot -Tsvg renders toDot without a warning', () => {
    const r = renderDot(toDot(machine));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.svg).toContain('<svg');
    if (name === 'richMachine') expect(r.svg).toContain('a &quot;quoted&quot; &lt;b&gt;state&lt;/b&gt;;#');
  });
});

describe('toMermaid parses and renders with mermaid in headless Chromium', () => {
  const mermaid = mermaidSuite();
  it.each(Object.entries(machines))('%s', async (_name, machine) => {
    const text = toMermaid(machine);
    expect(text.startsWith('stateDiagram-v2\n')).toBe(true);
    const r = await mermaid.check(text);
    expect(r.error).toBeUndefined();
    expect(r.svg).toContain('<svg');
  });
  it('shows the task machine states and labels', () => {
    const text = toMermaid();
    for (const s of ['running', 'active', 'cancelling', 'completed', 'failed', 'cancelled'])
      expect(text).toContain(`"${s}"`);
    expect(text).toContain('task.settled #91;returnedSuccess#93;');
    expect(text).toContain('after cancelGrace');
    expect(text).toContain('after deadline');
  });
});

describe('lifecyclePaths', () => {
  const paths = lifecyclePaths();
  it('has the empty path and every state of the task machine, dotted', () => {
    expect(paths[0]).toEqual({ state: 'running.active', events: [] });
    expect(new Set(paths.map((p) => p.state))).toEqual(
      new Set(['running.active', 'running.cancelling', 'completed', 'failed', 'cancelled']),
    );
    expect(paths).toContainEqual({ state: 'cancelled', events: ['task.cancel', 'after:cancelGrace'] });
    expect(paths).toContainEqual({ state: 'failed', events: ['task.settled:threw'] });
    expect(paths).toContainEqual({ state: 'cancelled', events: ['task.cancel', 'task.settled:threw'] });
    expect(paths).toContainEqual({ state: 'running.cancelling', events: ['after:deadline'] });
    expect(paths).toContainEqual({ state: 'cancelled', events: ['after:deadline', 'after:cancelGrace'] });
    expect(paths).toHaveLength(17);
  });

  it.each(lifecyclePaths().map((p) => [`${p.events.join(' → ') || '(empty)'} ⇒ ${p.state}`, p] as const))(
    'the real taskMachine follows %s',
    (_label, path) => {
      const actor = createActor(taskMachine, { input: { taskId: 'bg_0', cancelGraceMs: 60_000 } }).start();
      for (const e of path.events) actor.send(lifecycleEvent(e));
      expect(dottedState(actor.getSnapshot().value)).toBe(path.state);
      actor.stop();
    },
  );

  it('rejects an unknown event name', () => {
    expect(() => lifecycleEvent('nope')).toThrow(TypeError);
  });
});
