import { beforeAll, describe, expect, it } from 'vitest';
import { renderDot } from '../graph/consumers.js';
import { BUILD_TIMEOUT_MS, buildOnce, runBin } from './run.js';

describe('awaken-tasks graph and tree outputs are accepted by their consumers (real bin)', () => {
  beforeAll(() => buildOnce(), BUILD_TIMEOUT_MS);

  it.each(['task', 'supervisor'])('graph --machine %s --format dot renders with dot', async (machine) => {
    const r = await runBin(['graph', '--machine', machine, '--format', 'dot']);
    expect(r.code).toBe(0);
    const svg = renderDot(r.stdout);
    expect(svg.stderr).toBe('');
    expect(svg.status).toBe(0);
  });

  it('graph defaults to the task machine in Mermaid; --format json is the machine graph', async () => {
    const task = (await runBin(['graph'])).stdout;
    expect(task).toMatch(/^stateDiagram-v2\n[\s\S]*"cancelling"/);
    expect(task).toMatch(/s3 --> s5 : after deadline/);
    expect(task).toMatch(/state "queued" as s1/);
    expect(task).toMatch(/s3 --> s4 : task\.input\.requested/);
    const json = JSON.parse((await runBin(['graph', '--machine', 'supervisor', '--format', 'json'])).stdout);
    expect(json.id).toBe('supervisor');
    expect(json.nodes.map((n: { key: string }) => n.key)).toEqual([
      'supervisor',
      'active',
      'stopping',
      'stopped',
    ]);
  });
});
