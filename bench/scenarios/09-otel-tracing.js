// 8. The cost of OpenTelemetry tracing (awaken-tasks/otel): spawn → complete of 20k tasks in waves
// of 1,000, untraced (the baseline) against traced with the API's no-op tracer (no SDK installed)
// and with the SDK's in-memory exporter. Tasks per CPU-second of this process (user + system), not
// per wall-second: the cost is CPU work, and on a shared machine wall time mostly measures the
// neighbours. Ratio = traced ÷ untraced.
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { traceTasks } from '../../dist/src/adapters/otel/index.js';
import { counter, interleave, row } from '../lib/measure.js';
import { countingSupervisor, spawnWaves } from '../lib/ours.js';

export const id = 9;
export const title = 'otel tracing overhead';

async function run1(total, wave, tracer, exporter) {
  const { supervisor, settled } = countingSupervisor(counter);
  const tracing = tracer === undefined ? undefined : traceTasks(supervisor, { tracer });
  const c0 = process.cpuUsage();
  await spawnWaves(supervisor, settled, total, wave);
  const cpu = process.cpuUsage(c0);
  const ms = (cpu.user + cpu.system) / 1000;
  if (supervisor.stats().live !== 0) throw new Error('tasks still live');
  if (exporter !== undefined && exporter.getFinishedSpans().length !== total) {
    throw new Error(`expected ${total} spans, got ${exporter.getFinishedSpans().length}`);
  }
  exporter?.reset();
  tracing?.close();
  await supervisor.stop();
  return (total / ms) * 1000;
}

export async function run({ trials, scale }) {
  const total = Math.round(20_000 * scale);
  const wave = Math.min(1000, total);
  const noop = trace.getTracer('bench'); // no provider registered: the API's no-op tracer
  const exporter = new InMemorySpanExporter();
  const sdk = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
    'bench',
  );
  const rows = [];
  for (const [label, tracer, exp, target] of [
    ['no-op tracer (no SDK)', noop, undefined, { op: '>=', value: 0.95, label: '0.95 (≤ 5% cost)' }],
    ['SDK + in-memory exporter', sdk, exporter, undefined],
  ]) {
    const small = Math.round(total / 10);
    await run1(small, Math.min(wave, small));
    await run1(small, Math.min(wave, small), tracer, exp);
    // The no-op row's ratio is near 1, in CPU time, where one trial moves by ±15% (a major GC, or
    // the GC threads' work, landing in it or not): eleven trials (not three), with the order
    // swapped every second one, so the median is steady to a few percent.
    const r = await interleave({
      trials: target === undefined ? trials : Math.max(trials, 11),
      swap: true,
      warmup: 0,
      baseline: () => run1(total, wave),
      ours: () => run1(total, wave, tracer, exp),
    });
    rows.push(
      row({
        scenario: `9 spawn→complete ${total / 1000}k traced, ${label}`,
        metric: 'throughput',
        unit: 'tasks/CPU-s',
        better: 'higher',
        ...r,
        baselineLabel: 'untraced',
        oursLabel: 'traced',
        ...(target === undefined ? {} : { target }),
      }),
    );
  }
  return rows;
}
