import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InspectorBatch } from '../../src/graph/inspector/sse.js';
import type { InspectorSnapshot, InspectorTaskDetail } from '../../src/graph/inspector/model.js';
import { gated, http, listenerCount, openSse, scriptedTree, servedInspector } from './inspectorHelpers.js';

/** vi.waitFor's own default (1 s) is too short on a loaded two-core CI machine. */
const POLL = { timeout: 10_000, interval: 20 };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const setup = () => servedInspector((...more) => cleanups.push(...more));

describe('serveInspector', () => {
  it('binds 127.0.0.1 on a free port by default and serves the page, script and stylesheet', async () => {
    const { server } = await setup();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.token.length).toBeGreaterThanOrEqual(40);
    const page = await http(server.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script src="/app.js"');
    expect(page.body).not.toMatch(/https?:\/\//); // no CDN
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'self'");
    expect((await http(`${server.url}app.js`)).body).toContain('new EventSource');
    expect((await http(`${server.url}app.css`)).body).toContain('.node.st-cancelled');
  });

  it('refuses a request whose Host is not loopback (DNS rebinding)', async () => {
    const { server } = await setup();
    const r = await http(`${server.url}api/threads`, { headers: { host: 'evil.example:80' } });
    expect(r.status).toBe(403);
  });

  it('answers the trees of every thread, and a task’s lineage and event history', async () => {
    const { sup, server, g } = await setup();
    const t = await scriptedTree(sup, g);
    const snap = JSON.parse((await http(`${server.url}api/threads`)).body) as InspectorSnapshot;
    expect(snap.can_cancel).toBe(true);
    expect(snap.threads.map((x) => x.thread_id)).toEqual(['main', 'side']);
    expect(snap.threads[0]!.nodes.map((n) => n.summary.task_id)).toEqual([
      t.root,
      t.fetch,
      t.crawl,
      t.pageA,
      t.pageB,
    ]);
    const node = snap.threads[0]!.nodes[2]!;
    expect(node.label[0]).toBe(`${t.crawl} · crawl`);
    expect(node.latest?.event).toMatchObject({ kind: 'custom', event_type: 'started' });
    const d = JSON.parse((await http(`${server.url}api/tasks/${t.pageA}`)).body) as InspectorTaskDetail;
    expect(d.thread_id).toBe('main');
    expect(d.lineage.map((l) => l.task_id)).toEqual([t.root, t.crawl]);
    expect(d.parent_context).toEqual({ task_id: t.crawl });
    expect(d.events.map((e) => e.event.kind)).toEqual(['custom']);
    g.open();
    await sup.wait(t.pageA);
    await vi.waitFor(async () => {
      const d2 = JSON.parse((await http(`${server.url}api/tasks/${t.pageA}`)).body) as InspectorTaskDetail;
      expect(d2.events.map((e) => e.event.kind)).toEqual(['custom', 'completed']);
    }, POLL);
    expect((await http(`${server.url}api/tasks/bg_999`)).status).toBe(404);
  });

  it('POST /cancel without or with a wrong token is 403 and cancels nothing; with it, the subtree', async () => {
    const { sup, server, g } = await setup();
    const t = await scriptedTree(sup, g);
    const body = JSON.stringify({ task_id: t.crawl });
    const json = { 'content-type': 'application/json' };
    for (const headers of [
      json,
      { ...json, 'x-inspector-token': 'wrong' },
      { ...json, 'x-inspector-token': `${server.token}x` },
      { ...json, authorization: 'Bearer nope' },
    ]) {
      const r = await http(`${server.url}cancel`, { method: 'POST', headers, body });
      expect(r.status).toBe(403);
    }
    expect(sup.list('main').every((s) => s.status === 'running')).toBe(true);
    expect(sup.stats().live).toBe(6);
    const ok = await http(`${server.url}cancel`, {
      method: 'POST',
      headers: { ...json, 'x-inspector-token': server.token },
      body,
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ task_id: t.crawl, signalled: 3 });
    for (const id of [t.crawl, t.pageA, t.pageB]) expect((await sup.wait(id)).status).toBe('cancelled');
    expect(sup.get(t.fetch)?.status).toBe('running');
    const unknown = await http(`${server.url}cancel`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ task_id: 'bg_404' }),
    });
    expect(unknown.status).toBe(404);
  });

  it('100 SSE connect/disconnect cycles leave the listener count where it started', async () => {
    const { sup, server, g } = await setup();
    await scriptedTree(sup, g);
    const before = listenerCount(sup);
    for (let i = 0; i < 100; i++) {
      const s = openSse(`${server.url}events`);
      const first = await s.opened;
      expect(first.event).toBe('snapshot');
      expect(listenerCount(sup)).toBe(before + 1);
      s.close();
      await vi.waitFor(() => expect(listenerCount(sup)).toBe(before), { timeout: 10_000, interval: 2 });
    }
    expect(listenerCount(sup)).toBe(before);
  });

  it('streams a snapshot, then changes coalesced into batches (not one message per change)', async () => {
    const { sup, server, g } = await setup();
    const s = openSse(`${server.url}events`);
    cleanups.push(async () => s.close());
    expect(((await s.opened).data as InspectorSnapshot).threads).toEqual([]);
    const ids: string[] = [];
    for (let i = 0; i < 300; i++)
      ids.push(await sup.spawn({ threadId: 'bulk', taskType: 'n', description: `${i}` }, gated(g)));
    g.open();
    await Promise.all(ids.map((id) => sup.wait(id)));
    const seen = new Map<string, string>();
    await vi.waitFor(() => {
      for (const m of s.messages.slice(1)) {
        for (const c of (m.data as InspectorBatch).changes) seen.set(c.summary.task_id, c.summary.status);
      }
      expect(seen.size).toBe(300);
      expect([...seen.values()].every((st) => st === 'completed')).toBe(true);
    }, POLL);
    const batches = s.messages.length - 1;
    // 600 changes and 600 events went out in far fewer messages.
    expect(batches).toBeLessThan(100);
  });

  it('renders a thread as SVG with Graphviz', async () => {
    const { sup, server, g } = await setup();
    await scriptedTree(sup, g);
    const r = await http(`${server.url}api/threads/main/graph.svg`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('image/svg+xml');
    expect(r.body).toContain('<svg');
    expect(r.body).toContain('#cfe2ff'); // running fill from STATUS_COLORS
  });

  it('close() ends open streams and frees the port', async () => {
    const { sup, server } = await setup();
    const s = openSse(`${server.url}events`);
    await s.opened;
    const before = listenerCount(sup);
    await server.close();
    await vi.waitFor(() => expect(listenerCount(sup)).toBe(before - 1), POLL);
    await expect(http(server.url)).rejects.toThrow();
  });
});
