/** The assertions on the two-task `streamUntilIdle` scenario, shared by the AI SDK 6 and 7 tests. */
import { expect } from 'vitest';
import { cards, type ScenarioReport } from './streamUntilIdleScenario.js';

const count = (text: string, needle: string): number => text.split(needle).length - 1;

export function expectTwoTaskScenario(report: ScenarioReport): void {
  const { a, b } = report.ids;
  const ended = (id: string) => `<background-task-event kind=\\"completed\\" task_id=\\"${id}\\">`;
  // Turn 1 (two model steps), then one continuation per task end: A's, then B's.
  expect(report.outcome.reason).toBe('idle');
  expect(report.outcome.turns).toBe(3);
  expect(report.prompts).toHaveLength(4);
  const [, , turn2, turn3] = report.prompts as [string, string, string, string];
  expect(count(turn2, ended(a))).toBe(1);
  expect(count(turn2, ended(b))).toBe(0);
  // B ended while turn 2 ran: turn 3 sees it; A's end is in the history once, never re-injected.
  expect(count(turn3, ended(b))).toBe(1);
  expect(count(turn3, ended(a))).toBe(1);
  const injected = report.outcome.messages.filter((m) => m.role === 'user').map((m) => String(m.content));
  expect(injected.filter((m) => m.includes(`kind="completed" task_id="${a}"`))).toHaveLength(1);
  expect(injected.filter((m) => m.includes(`kind="completed" task_id="${b}"`))).toHaveLength(1);
  expect(report.outcome.running).toEqual([]);
  expect(report.outcome.unread).toEqual([]);

  // The UI message: one card per task, holding the final state; the texts of the three turns.
  const final = cards(report);
  expect(final.map((c) => c.task_id).sort()).toEqual([a, b].sort());
  for (const [id, topic] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    const card = final.find((c) => c.task_id === id)!;
    expect(card).toMatchObject({
      task_type: 'research',
      status: 'completed',
      result: { topic, findings: `all about ${topic}` },
      progress: { event_type: 'progress', payload: { topic, percent: 100 } },
    });
    expect(card.completed_at_ms).toBeTypeOf('number');
  }
  const texts = report.final.parts.filter((p) => p.type === 'text').map((p) => p.text);
  expect(texts).toEqual(['Started both.', 'A is done.', 'B is done.']);

  // On the wire, each card was rewritten several times under the same part id (running, 50 %,
  // 100 %, completed), and the message has one start and one finish.
  for (const id of [a, b]) {
    const writes = report.chunks.filter(
      (c) => c.type === 'data-task' && (c as { id?: string }).id === id,
    ) as Array<{ data: { status: string } }>;
    expect(writes.length).toBeGreaterThanOrEqual(3);
    expect(writes[0]!.data.status).toBe('running');
    expect(writes.at(-1)!.data.status).toBe('completed');
  }
  expect(report.chunks.filter((c) => c.type === 'start')).toHaveLength(1);
  expect(report.chunks.filter((c) => c.type === 'finish')).toHaveLength(1);
  expect(report.chunks.at(-1)?.type).toBe('finish');
}
