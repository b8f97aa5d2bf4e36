import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { taskMachine } from '../machines/task.machine.js';
import { toMermaid } from '../src/graph/machineGraph.js';
import { readmeBlock } from '../test/package/readme.js';

afterEach(() => vi.restoreAllMocks());

it("examples/readme.ts is the README's quick start, with the import pointed at the sources", () => {
  const example = readFileSync(join(import.meta.dirname, 'readme.ts'), 'utf8');
  const body = example.replace(/^(\/\/.*\n)+/, '').replace("from '../src/index.js';", "from 'awaken-tasks';");
  expect(body).toBe(readmeBlock('quick-start'));
});

it("the README's quick start runs: completed with its result, three progress events, then the terminal event", async () => {
  const logged: unknown[] = [];
  vi.spyOn(console, 'log').mockImplementation((value: unknown) => {
    logged.push(value);
  });
  await import('./readme.js');
  const [summary, events] = logged as [Record<string, unknown>, Array<Record<string, unknown>>];
  expect(summary).toMatchObject({ task_id: 'bg_0', status: 'completed', result: { pages: 3 } });
  expect(events.map((e) => e.kind)).toEqual(['custom', 'custom', 'custom', 'completed']);
  expect(events.slice(0, 3).map((e) => e.payload)).toEqual([{ page: 1 }, { page: 2 }, { page: 3 }]);
});

it("the README's lifecycle diagram is the task machine's (regenerate it with `npx awaken-tasks graph`)", () => {
  expect(readmeBlock('task-machine', { kind: 'diagram', lang: 'mermaid' })).toBe(toMermaid(taskMachine));
});
