import { describe, expect, it } from 'vitest';
import { main } from './ai-sdk-chat.js';

describe('examples/ai-sdk-chat (awaken-tasks/ai-sdk with AI SDK 6, three turns)', () => {
  it('turn 1 starts a task, turn 2 reads its merged progress, turn 3 cancels it', async () => {
    const lines: string[] = [];
    const report = await main((l) => lines.push(l));
    const id = report.crawl.task_id;
    expect(report.replies).toEqual([
      `Started ${id}; I'll report back.`,
      'Crawled 3 pages so far.',
      'Stopped the crawl.',
    ]);
    // The task carries the tool call's lineage, so cancel_task (Run scope) found it by name.
    expect(report.crawl.status).toBe('cancelled');
    expect(report.crawl.parent_context).toEqual({
      run_id: 'chat-1-run',
      call_id: 'call-1',
      agent_id: 'assistant',
    });
    // Three progress events became ONE message before turn 2; nothing new before turn 3.
    expect(report.injected[0]).toEqual([
      {
        role: 'user',
        content:
          `<background-task-progress task_id="${id}" events="3">\n` +
          '{"event_type":"progress","payload":{"pages":1,"url":"https://example.com"}}\n' +
          '{"event_type":"progress","payload":{"pages":2,"url":"https://example.com"}}\n' +
          '{"event_type":"progress","payload":{"pages":3,"url":"https://example.com"}}\n' +
          '</background-task-progress>',
      },
    ]);
    expect(report.injected[1]).toEqual([]);
    // After the cancel, the terminal event converts to the runtime's event message.
    expect(report.injected[2]).toEqual([
      {
        role: 'user',
        content: `<background-task-event kind="cancelled" task_id="${id}">\n{"kind":"cancelled","task_id":"${id}"}\n</background-task-event>`,
      },
    ]);
    // The cancel_task receipt reached the model in turn 3.
    expect(report.prompts.at(-1)).toContain(
      `{"status":"accepted","root_task_id":"${id}","cancelled_count":1}`,
    );
    expect(lines.at(-1)).toBe(`crawl ${id}: cancelled`);
  });
});
