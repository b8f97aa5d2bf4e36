import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createInbox } from '../../src/inbox/inbox.js';
import type { Json } from '../../src/wire/types.js';
import { isSettled } from './settled.js';

describe('upstream inbox.rs behaviours', () => {
  it('N1 send then drain returns both in order, then tryRecv is empty', () => {
    const { sender, receiver } = createInbox();
    expect(sender.send({ type: 'progress', pct: 50 })).toBe(true);
    expect(sender.send('done')).toBe(true);
    expect(receiver.drain()).toEqual([{ type: 'progress', pct: 50 }, 'done']);
    expect(receiver.tryRecv()).toBeUndefined();
  });

  it('N2 trySend after the receiver closed returns false without onClosed', () => {
    const lost: Json[] = [];
    const { sender, receiver } = createInbox({ onClosed: (m) => lost.push(m) });
    receiver.close();
    expect(sender.trySend('lost')).toBe(false);
    expect(lost).toEqual([]);
  });

  it('N3 clones deliver into the same receiver', () => {
    const { sender, receiver } = createInbox();
    const other = sender.clone();
    expect(sender.send(1)).toBe(true);
    expect(other.send(2)).toBe(true);
    expect(receiver.drain()).toEqual([1, 2]);
  });

  it('N4 isClosed is false while the receiver lives, true after close; send then fails', () => {
    const { sender, receiver } = createInbox();
    expect(sender.isClosed()).toBe(false);
    receiver.close();
    expect(sender.isClosed()).toBe(true);
    expect(sender.clone().isClosed()).toBe(true);
    expect(sender.send('x')).toBe(false);
  });

  it('N5 tryRecv on an empty inbox returns undefined', () => {
    const { receiver } = createInbox();
    expect(receiver.tryRecv()).toBeUndefined();
    expect(receiver.size).toBe(0);
  });

  it('N6 onClosed fires on every failed send, with the undelivered message', () => {
    const lost: Json[] = [];
    const { sender, receiver } = createInbox({ onClosed: (m) => lost.push(m) });
    expect(sender.send('a')).toBe(true);
    expect(lost).toEqual([]);
    receiver.close();
    expect(sender.send('b')).toBe(false);
    expect(lost).toEqual(['b']);
    expect(sender.send('c')).toBe(false);
    expect(lost).toEqual(['b', 'c']);
  });

  it('N6 (section 6 item 30) send on a closed handle returns false without onClosed', () => {
    const lost: Json[] = [];
    const { sender, receiver } = createInbox({ onClosed: (m) => lost.push(m) });
    const other = sender.clone();
    other.close();
    expect(other.send('x')).toBe(false);
    expect(other.trySend('x')).toBe(false);
    receiver.close();
    expect(other.send('y')).toBe(false);
    expect(lost).toEqual([]);
    expect(sender.send('z')).toBe(false);
    expect(lost).toEqual(['z']);
  });

  it('N7 without onClosed, send after receiver close returns false without error', () => {
    const { sender, receiver } = createInbox();
    receiver.close();
    expect(() => sender.send('x')).not.toThrow();
    expect(sender.send('x')).toBe(false);
  });

  it('N11 drain returns all pending in order, second drain empty; buffered survive sender close', () => {
    const a = createInbox();
    for (const e of ['a', 'b', 'c']) a.sender.send({ event: e });
    const got = a.receiver.drain() as { event: string }[];
    expect(got).toHaveLength(3);
    expect(got[0]?.event).toBe('a');
    expect(got[2]?.event).toBe('c');
    expect(a.receiver.drain()).toEqual([]);

    const b = createInbox();
    b.sender.send('buffered');
    b.sender.close();
    expect(b.receiver.drain()).toEqual(['buffered']);

    expect(createInbox().receiver.drain()).toEqual([]);
  });

  it('N13 recv resolves undefined once every sender closed and the queue is empty', async () => {
    const { sender, receiver } = createInbox<number>();
    const other = sender.clone();
    sender.send(1);
    sender.close();
    other.send(2);
    other.close();
    expect(await receiver.recv()).toBe(1);
    expect(await receiver.recv()).toBe(2);
    expect(await receiver.recv()).toBeUndefined();
  });

  it('N13 recv without signal waits until a message arrives', async () => {
    const { sender, receiver } = createInbox<string>();
    const p = receiver.recv();
    expect(await isSettled(p)).toBe(false);
    sender.send('late');
    expect(await p).toBe('late');
  });

  it('section 6 item 6: an already-aborted signal wins over a queued message, which stays queued', async () => {
    const { sender, receiver } = createInbox<string>();
    sender.send('kept');
    expect(await receiver.recv(AbortSignal.abort())).toBeUndefined();
    expect(receiver.size).toBe(1);
    expect(await receiver.recv()).toBe('kept');
  });
});

describe('pending recv', () => {
  it('resolves on send', async () => {
    const { sender, receiver } = createInbox<number>();
    const ac = new AbortController();
    const p = receiver.recv(ac.signal);
    sender.send(7);
    expect(await p).toBe(7);
    expect(receiver.size).toBe(0);
  });

  it('resolves undefined when the last sender closes, not before', async () => {
    const { sender, receiver } = createInbox<number>();
    const other = sender.clone();
    const p = receiver.recv();
    sender.close();
    expect(await isSettled(p)).toBe(false);
    other.close();
    expect(await p).toBeUndefined();
  });

  it('resolves undefined when the receiver closes', async () => {
    const { receiver } = createInbox<number>();
    const p = receiver.recv();
    receiver.close();
    expect(await p).toBeUndefined();
    expect(await receiver.recv()).toBeUndefined();
  });

  it('resolves undefined on abort and leaves later messages queued', async () => {
    const { sender, receiver } = createInbox<number>();
    const ac = new AbortController();
    const p = receiver.recv(ac.signal);
    ac.abort();
    expect(await p).toBeUndefined();
    sender.send(1);
    expect(receiver.size).toBe(1);
  });

  it('drain hands out an array the caller owns: changing it reaches neither the queue nor later drains', () => {
    const { sender, receiver } = createInbox<number>();
    const drains: number[][] = [];
    let next = 0;
    // Full rings (handed out whole), partial ones (copied) and a wrapped one (after a tryRecv).
    for (const count of [16, 64, 3, 64, 40, 1]) {
      for (let i = 0; i < count; i++) sender.send(next++);
      if (count === 40) expect(receiver.tryRecv()).toBe(next - 40);
      drains.push(receiver.drain());
    }
    const firsts = drains.map((d) => d[0]);
    for (const d of drains) d.fill(-1).push(-2);
    expect(firsts).toEqual([0, 16, 80, 83, 148, 187]);
    expect(drains.map((d) => d.length)).toEqual([17, 65, 4, 65, 40, 2]);
    for (let i = 0; i < 70; i++) sender.send(i);
    const last = receiver.drain();
    expect(last).toEqual(Array.from({ length: 70 }, (_, i) => i));
    expect(drains.every((d) => d !== last)).toBe(true);
    expect(receiver.size).toBe(0);
    expect(receiver.drain()).toEqual([]);
  });

  it('several pending recv calls are served in call order', async () => {
    const { sender, receiver } = createInbox<number>();
    const ps = [receiver.recv(), receiver.recv(), receiver.recv()];
    sender.send(1);
    sender.send(2);
    sender.send(3);
    sender.send(4);
    expect(await Promise.all(ps)).toEqual([1, 2, 3]);
    expect(receiver.drain()).toEqual([4]);
  });

  it('an aborted waiter in the middle is skipped; the others keep their order', async () => {
    const { sender, receiver } = createInbox<number>();
    const ac = new AbortController();
    const a = receiver.recv();
    const b = receiver.recv(ac.signal);
    const c = receiver.recv();
    ac.abort();
    sender.send(1);
    sender.send(2);
    expect([await a, await b, await c]).toEqual([1, undefined, 2]);
  });

  it('removes its abort listener when it settles: no leak after 1000 recv cycles', async () => {
    const { sender, receiver } = createInbox<number>();
    const ac = new AbortController();
    for (let i = 0; i < 1000; i++) {
      const p = receiver.recv(ac.signal);
      sender.send(i);
      expect(await p).toBe(i);
    }
    expect(getEventListeners(ac.signal, 'abort').length).toBe(0);
    const closing = receiver.recv(ac.signal);
    receiver.close();
    await closing;
    expect(getEventListeners(ac.signal, 'abort').length).toBe(0);
  });
});
