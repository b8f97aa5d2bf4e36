// The README's quick start, verbatim but for the import path: examples/readme.test.ts checks the
// two stay equal and runs this file against the sources (test/package/packed.test.ts runs the
// README's own text from the packed tarball).
import { createInbox, createTaskSupervisor, TaskResult } from '../src/index.js';

const inbox = createInbox();
const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });

const id = await supervisor.spawn(
  { threadId: 'thread-1', taskType: 'crawl', description: 'crawl the docs', name: 'crawler' },
  async (ctx) => {
    for (let page = 1; page <= 3; page++) {
      if (ctx.isCancelled()) return TaskResult.cancelled();
      await new Promise((resolve) => setTimeout(resolve, 10)); // your I/O: pass it ctx.signal
      ctx.emit('progress', { page });
    }
    return { pages: 3 };
  },
);

const summary = await supervisor.wait(id);
console.log(summary); // { task_id: 'bg_0', status: 'completed', result: { pages: 3 }, … }
console.log(inbox.receiver.drain()); // three { kind: 'custom', event_type: 'progress', … }, then { kind: 'completed', … }
await supervisor.stop();
