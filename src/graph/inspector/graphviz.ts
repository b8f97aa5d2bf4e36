/** Server-side SVG of a thread's tree by Graphviz (`dot -Tsvg`), for the page's "diagram" link. */
import { spawn } from 'node:child_process';

/**
 * Thrown when `dot` is missing or fails.
 *
 * @example
 * await renderDotSvg(dot).catch((e) => e instanceof GraphvizError && console.warn(e.message));
 */
export class GraphvizError extends Error {
  override readonly name = 'GraphvizError';
}

/**
 * Runs `dot -Tsvg` on `source` and resolves with the SVG text. Rejects with {@link GraphvizError}
 * when Graphviz is not installed, exits non-zero, or takes longer than `timeoutMs`.
 *
 * @example
 * const svg = await renderDotSvg(taskTreeToDot(supervisor.list('demo')));
 */
export function renderDotSvg(source: string, timeoutMs = 10_000, dotPath = 'dot'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(dotPath, ['-Tsvg'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new GraphvizError(`dot took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 2000) err += b.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new GraphvizError(e.code === 'ENOENT' ? 'Graphviz `dot` is not installed' : e.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new GraphvizError(`dot exited with ${code}: ${err.trim().split('\n')[0] ?? ''}`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(source);
  });
}
