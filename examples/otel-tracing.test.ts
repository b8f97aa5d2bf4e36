import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { main } from './otel-tracing.js';

describe('examples/otel-tracing (awaken-tasks/otel with the in-memory exporter)', () => {
  it('the tool span holds the research span, which holds both fetches; the cancelled one says so', async () => {
    const spans = await main(() => {});
    const by = (description: string) =>
      spans.find((s) => s.attributes['awaken.background_task.description'] === description)!;
    const tool = spans.find((s) => s.name === 'execute_tool research')!;
    const research = by('research otters');
    const [wiki, archive] = [by('wiki'), by('archive')];
    expect(research.parentSpanContext?.spanId).toBe(tool.spanContext().spanId);
    expect(wiki.parentSpanContext?.spanId).toBe(research.spanContext().spanId);
    expect(archive.parentSpanContext?.spanId).toBe(research.spanContext().spanId);
    expect(research.status.code).toBe(SpanStatusCode.OK);
    expect(research.events.map((e) => e.name)).toEqual(['progress']);
    expect(wiki.attributes['awaken.background_task.status']).toBe('completed');
    expect(archive.attributes['awaken.background_task.status']).toBe('cancelled');
    expect(archive.status).toEqual({ code: SpanStatusCode.ERROR, message: 'cancelled' });
    expect(archive.attributes['awaken.background_task.cancelled_by']).toBe(
      archive.attributes['awaken.background_task.id'],
    );
  });
});
