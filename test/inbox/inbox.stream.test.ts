import { describe, expect, it } from 'vitest';
import { createInbox } from '../../src/inbox/inbox.js';
import type { Json } from '../../src/wire/types.js';
import { isSettled } from './settled.js';

describe('FIFO and size', () => {
  it('a 1e5 burst drains in order via tryRecv, across ring growth and wrap-around', () => {
    const { sender, receiver } = createInbox<number>();
    // Offset the head first so the growth copies a wrapped ring.
    for (let i = 0; i < 10; i++) sender.send(-1);
    for (let i = 0; i < 10; i++) receiver.tryRecv();
    for (let i = 0; i < 1e5; i++) sender.send(i);
    expect(receiver.size).toBe(1e5);
    for (let i = 0; i < 1e5; i++) {
      if (receiver.tryRecv() !== i) throw new Error(`out of order at ${i}`);
    }
    expect(receiver.size).toBe(0);
  });

  it('a 1e5 burst drains in order via drain, interleaved sends and receives stay FIFO', () => {
    const { sender, receiver } = createInbox<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 1000; i++) sender.send(next++);
      for (let i = 0; i < 500; i++) {
        if (receiver.tryRecv() !== expected++) throw new Error(`out of order at ${expected - 1}`);
      }
    }
    const rest = receiver.drain();
    expect(rest).toHaveLength(next - expected);
    expect(rest.every((v, i) => v === expected + i)).toBe(true);
  });

  it('a 1M burst drains in linear time (a shift()-based queue takes about a minute)', () => {
    const { sender, receiver } = createInbox<number>();
    const start = performance.now();
    for (let i = 0; i < 1e6; i++) sender.send(i);
    let sum = 0;
    for (let m = receiver.tryRecv(); m !== undefined; m = receiver.tryRecv()) sum += m;
    expect(sum).toBe((1e6 * (1e6 - 1)) / 2);
    // Generous bound: linear is ~1 s even on a slow CI box; quadratic is far beyond it.
    expect(performance.now() - start).toBeLessThan(10_000);
  });

  it('receiver.close drops queued messages without onClosed', () => {
    const lost: Json[] = [];
    const { sender, receiver } = createInbox({ onClosed: (m) => lost.push(m) });
    sender.send(1);
    receiver.close();
    expect(receiver.size).toBe(0);
    expect(receiver.tryRecv()).toBeUndefined();
    expect(receiver.drain()).toEqual([]);
    expect(lost).toEqual([]);
  });
});

describe('async iteration', () => {
  it('yields every message in order and ends when all senders close', async () => {
    const { sender, receiver } = createInbox<number>();
    const other = sender.clone();
    const seen: number[] = [];
    const done = (async () => {
      for await (const m of receiver) seen.push(m);
    })();
    sender.send(1);
    other.send(2);
    sender.close();
    other.send(3);
    expect(await isSettled(done)).toBe(false);
    other.close();
    await done;
    expect(seen).toEqual([1, 2, 3]);
  });

  it('ends when the receiver closes', async () => {
    const { receiver } = createInbox<number>();
    const done = (async () => {
      for await (const _ of receiver) throw new Error('unexpected message');
    })();
    receiver.close();
    await done;
  });

  it('break does not close the receiver', async () => {
    const { sender, receiver } = createInbox<number>();
    sender.send(1);
    sender.send(2);
    for await (const m of receiver) {
      expect(m).toBe(1);
      break;
    }
    expect(sender.isClosed()).toBe(false);
    expect(await receiver.recv()).toBe(2);
  });
});

describe('clone semantics', () => {
  it('closing one handle leaves the others working; close is idempotent', async () => {
    const { sender, receiver } = createInbox<number>();
    const other = sender.clone();
    other.close();
    other.close();
    expect(sender.send(1)).toBe(true);
    expect(await receiver.recv()).toBe(1);
    const p = receiver.recv();
    expect(await isSettled(p)).toBe(false);
    sender.close();
    expect(await p).toBeUndefined();
  });

  it('a clone of a closed handle is closed and cannot reopen an ended stream', async () => {
    const { sender, receiver } = createInbox<number>();
    sender.close();
    const revived = sender.clone();
    expect(revived.send(1)).toBe(false);
    expect(await receiver.recv()).toBeUndefined();
  });

  it('a clone keeps the stream open after the original closes', async () => {
    const { sender, receiver } = createInbox<number>();
    const other = sender.clone();
    sender.close();
    const p = receiver.recv();
    other.send(5);
    expect(await p).toBe(5);
  });

  it('rejects bad options with TypeError', () => {
    expect(() => createInbox({ onClosed: 1 as never })).toThrow(TypeError);
    expect(() => createInbox({ onClosed: 1 as never })).toThrow('Expected `opts.onClosed` to be a function');
  });
});
