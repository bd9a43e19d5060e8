import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff } from '../src/backoff';
import { Connection, type ConnectionState } from '../src/connection';
import { sockets } from './fake';

describe('Connection', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('authenticates with the token, reports its states, and reconnects with backoff until ready again', () => {
    const s = sockets();
    const states: [ConnectionState, number | undefined][] = [];
    let token = 'pvt_1';
    const connection = new Connection({ url: 'ws://x', token: () => token, createSocket: s.create, backoff: new Backoff(500, 15_000, () => 1) });
    connection.on('state', (state, retry) => states.push([state, retry]));
    let readies = 0;
    connection.on('ready', () => readies++);
    connection.start();
    s.last().open('consumer');
    expect(s.last().sent[0]).toEqual({ type: 'auth', token: 'pvt_1' });
    expect(connection.ready).toBe(true);

    s.last().drop();
    vi.advanceTimersByTime(499);
    expect(s.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(s.all).toHaveLength(2);
    s.last().drop();
    vi.advanceTimersByTime(1000);
    token = 'pvt_2';
    s.last().open('consumer');
    expect(s.last().sent[0]).toEqual({ type: 'auth', token: 'pvt_2' });
    expect(states).toEqual([
      ['connecting', undefined], ['connected', undefined],
      ['reconnecting', 500], ['reconnecting', undefined], ['reconnecting', 1000], ['reconnecting', undefined], ['connected', undefined],
    ]);
    expect(readies).toBe(2);
    // Ready resets the backoff.
    s.last().drop();
    expect(states.at(-1)).toEqual(['reconnecting', 500]);
  });

  it('sends no auth frame when the upgrade is authenticated, and nothing before ready', () => {
    const s = sockets();
    const connection = new Connection({ url: 'ws://x', createSocket: s.create });
    connection.start();
    expect(connection.send({ type: 'ping' })).toBe(false);
    s.last().open();
    expect(connection.send({ type: 'ping' })).toBe(true);
    expect(s.last().sent).toEqual([{ type: 'ping' }]);
  });

  it('stops when the server refuses the credentials (1008 unauthorized), and retries any other refusal', () => {
    const s = sockets();
    const connection = new Connection({ url: 'ws://x', createSocket: s.create });
    connection.start();
    s.last().drop(1008, 'too many connections');
    expect(connection.state).toBe('reconnecting');
    vi.runOnlyPendingTimers();
    s.last().open();
    s.last().drop(1008, 'unauthorized');
    expect(connection.state).toBe('unauthorized');
    vi.runAllTimers();
    expect(s.all).toHaveLength(2);
  });

  it('matches replies to requests by requestId; an error rejects with its code, a drop with offline', async () => {
    const s = sockets();
    let n = 0;
    const connection = new Connection({ url: 'ws://x', createSocket: s.create, newId: () => `r${++n}` });
    await expect(connection.request({ type: 'conversation.accept', conversationId: 'c' })).rejects.toMatchObject({ code: 'offline' });
    connection.start();
    s.last().open();
    const accepted = connection.request({ type: 'conversation.accept', conversationId: 'c' });
    const taken = connection.request({ type: 'conversation.accept', conversationId: 'd' });
    expect(s.last().ofType('conversation.accept').map((f) => f.requestId)).toEqual(['r1', 'r2']);
    s.last().push({ type: 'error', requestId: 'r2', code: 'already_assigned', message: 'Another agent has it.', retryable: false });
    s.last().push({ type: 'conversation.updated', conversation: { id: 'c' } as never }); // a broadcast, not the reply
    s.last().push({ type: 'conversation.updated', requestId: 'r1', conversation: { id: 'c', status: 'open' } as never });
    await expect(accepted).resolves.toMatchObject({ type: 'conversation.updated', requestId: 'r1' });
    await expect(taken).rejects.toMatchObject({ code: 'already_assigned' });
    const dropped = connection.request({ type: 'conversation.close', conversationId: 'c' });
    s.last().drop();
    await expect(dropped).rejects.toMatchObject({ code: 'offline' });
  });

  it('ignores what a replaced socket still delivers, and text that is not JSON', () => {
    const s = sockets();
    const connection = new Connection({ url: 'ws://x', createSocket: s.create });
    const frames: string[] = [];
    connection.on('frame', (f) => frames.push(f.type));
    connection.start();
    const first = s.last();
    first.open();
    connection.restart();
    first.push({ type: 'pong' });
    s.last().open();
    s.last().onmessage?.({ data: 'not json' });
    s.last().push({ type: 'pong' });
    expect(frames).toEqual(['pong']);
  });
});
