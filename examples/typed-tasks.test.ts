import { describe, expect, it } from 'vitest';
import { main } from './typed-tasks.js';

describe('examples/typed-tasks (docs/typed-tasks.md, end to end)', () => {
  it('a typed crawl reports its pages and result; a deadline ends a slow task cancelled, saying it timed out', async () => {
    const lines: string[] = [];
    const r = await main((l) => lines.push(l));
    expect(r.crawl).toMatchObject({ task_type: 'crawl', status: 'completed', result: { pages: 3 } });
    expect(r.pages).toEqual(['https://example.com/1', 'https://example.com/2', 'https://example.com/3']);
    expect(r.latest).toEqual({ n: 3, url: 'https://example.com/3' });
    expect(r.late).toMatchObject({ status: 'cancelled', error: 'task timed out after 50 ms' });
    expect(lines).toEqual(['crawl: completed, 3 pages', 'research: cancelled (task timed out after 50 ms)']);
  });
});
