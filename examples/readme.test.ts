import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { main } from './readme.js';

it("the README's example runs: three progress events, then completed with its result", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'awaken-readme-'));
  try {
    const { events, summary } = await main(join(dir, 'tasks.db'));
    expect(events.map((e) => e.kind)).toEqual(['custom', 'custom', 'custom', 'completed']);
    expect(summary).toMatchObject({ status: 'completed', result: { pages: 3 } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
