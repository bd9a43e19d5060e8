import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentLive, type SocketLike } from '../src/live';
import type { Message } from '../src/model';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: any[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  send(data: string) { this.sent.push(JSON.parse(data)); }
  close() { this.drop(1000, ''); }
  open() { this.readyState = 1; this.onopen?.({}); this.push({ type: 'ready', role: 'agent', participantId: 'a1', tenantId: 't1' }); }
  push(frame: object) { this.onmessage?.({ data: JSON.stringify(frame) }); }
  drop(code = 1006, reason = '') { this.readyState = 3; this.onclose?.({ code, reason }); }
  ofType(type: string) { return this.sent.filter((f) => f.type === type); }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timers = { shift: () => () => vi.runOnlyPendingTimers(), get length() { return vi.getTimerCount(); } };
  let ids = 0;
  const seen: Message[] = [];
  const readies: number[] = [];
  const live = new AgentLive({
    url: 'ws://parley/ws/agent',
    createSocket: () => { const s = new FakeSocket(); sockets.push(s); return s; },
    newId: () => `c-${++ids}`,
    random: () => 0.5,
  }, { message: (m) => seen.push(m), ready: () => readies.push(sockets.length) });
  return { live, sockets, timers, seen, readies, last: () => sockets[sockets.length - 1] };
}

const msg = (seq: number, text = `m${seq}`, extra: Partial<Message> = {}): Message => ({
  conversationId: 'conv', seq, kind: 'text', senderRole: 'consumer', senderId: 'u', clientMessageId: null,
  text, sentAt: new Date(1_800_000_000_000 + seq * 1000).toISOString(), ...extra,
});

describe('AgentLive', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('subscribes from the start, then resumes after a reconnect from the last seq it holds (and asks for fresh lists)', () => {
    const { live, sockets, timers, readies, last } = harness();
    live.start();
    const timeline = live.watch('conv');
    last().open();
    expect(last().ofType('conversation.subscribe')).toEqual([{ type: 'conversation.subscribe', conversationId: 'conv', since: 0 }]);
    last().push({ type: 'message', message: msg(1) });
    last().push({ type: 'message', message: msg(2) });

    last().drop();
    expect(live.state).toBe('reconnecting');
    timers.shift()!();
    expect(sockets).toHaveLength(2);
    last().open();
    expect(last().ofType('conversation.subscribe')).toEqual([{ type: 'conversation.subscribe', conversationId: 'conv', since: 2 }]);
    // The server replays from 3; a repeat of 2 (e.g. a live frame racing the drop) is ignored.
    last().push({ type: 'message', message: msg(2) });
    last().push({ type: 'message', message: msg(3) });
    expect(timeline.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(readies).toEqual([1, 2]); // each (re)connection reloads the lists frames may have missed
  });

  it('resends unacknowledged messages with their original clientMessageId after a reconnect, and shows them once', () => {
    const { live, timers, last } = harness();
    live.start();
    const timeline = live.watch('conv');
    last().open();
    last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    const id = live.send('conv', 'Let me check');
    expect(last().ofType('message.send')).toEqual([{ type: 'message.send', conversationId: 'conv', clientMessageId: id, text: 'Let me check' }]);
    expect(timeline.pending.map((p) => p.text)).toEqual(['Let me check']);

    last().drop(); // no ack: was it stored? Only the server knows.
    const offline = live.send('conv', 'Written while offline');
    timers.shift()!();
    last().open();
    expect(last().ofType('message.send')).toEqual([]); // after the replay
    last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 1 });
    const resent = last().ofType('message.send');
    expect(resent.map((f) => f.clientMessageId)).toEqual([id, offline]);
    expect(last().sent.findIndex((f) => f.type === 'conversation.subscribe')).toBeLessThan(last().sent.findIndex((f) => f.type === 'message.send'));

    // It had been stored before the drop: replay brings it, the resend is acknowledged as a duplicate.
    last().push({ type: 'message', message: msg(1, 'Let me check', { senderRole: 'agent', clientMessageId: id }) });
    last().push({ type: 'message.ack', conversationId: 'conv', clientMessageId: id, seq: 1, duplicate: true });
    last().push({ type: 'message.ack', conversationId: 'conv', clientMessageId: offline, seq: 2, duplicate: false });
    expect(timeline.pending.map((p) => p.clientMessageId)).toEqual([offline]); // until its message arrives
    last().push({ type: 'message', message: msg(2, 'Written while offline', { senderRole: 'agent', clientMessageId: offline }) });
    expect(timeline.messages.map((m) => m.text)).toEqual(['Let me check', 'Written while offline']);
    expect(timeline.pending).toEqual([]);
  });

  it('keeps a refused message with the reason and does not resend it; retries one the database could not store', () => {
    const { live, last } = harness();
    live.start();
    const timeline = live.watch('conv');
    last().open();
    last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    const closed = live.send('conv', 'too late');
    last().push({ type: 'error', code: 'conversation_closed', message: 'The conversation is closed.', retryable: false, conversationId: 'conv', clientMessageId: closed });
    expect(timeline.pending[0].error).toBe('The conversation is closed.');

    const busy = live.send('conv', 'retry me');
    last().push({ type: 'error', code: 'storage_unavailable', message: 'busy', retryable: true, conversationId: 'conv', clientMessageId: busy });
    vi.advanceTimersByTime(2000);
    expect(last().ofType('message.send').filter((f) => f.clientMessageId === busy)).toHaveLength(2);
    expect(last().ofType('message.send').filter((f) => f.clientMessageId === closed)).toHaveLength(1);
  });

  it('stops reconnecting when the session is gone (closed 1008 unauthorized)', () => {
    const { live, sockets, timers, last } = harness();
    live.start();
    last().open();
    last().drop(1008, 'unauthorized');
    expect(live.state).toBe('signed-out');
    expect(timers).toHaveLength(0);
    expect(sockets).toHaveLength(1);
  });

  it('backs off between attempts with the shared backoff, up to 15 s', () => {
    const sockets: FakeSocket[] = [];
    const live = new AgentLive({ url: 'ws://x', createSocket: () => { const s = new FakeSocket(); sockets.push(s); return s; }, random: () => 1 });
    live.start();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const before = Date.now();
      sockets[sockets.length - 1].drop();
      vi.runOnlyPendingTimers();
      delays.push(Date.now() - before);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
    expect(sockets).toHaveLength(8);
  });

  it('resolves accept with the reply and rejects it with the error code', async () => {
    const { live, last } = harness();
    live.start();
    last().open();
    const accepted = live.accept('conv');
    const request = last().ofType('conversation.accept')[0];
    last().push({ type: 'conversation.updated', requestId: request.requestId, conversation: { id: 'conv', status: 'open' } });
    await expect(accepted).resolves.toMatchObject({ conversation: { id: 'conv' } });

    const taken = live.accept('other');
    const second = last().ofType('conversation.accept')[1];
    last().push({ type: 'error', requestId: second.requestId, code: 'already_assigned', message: 'Another agent has it.', retryable: false });
    await expect(taken).rejects.toMatchObject({ code: 'already_assigned' });

    const dropped = live.close('conv');
    last().drop();
    await expect(dropped).rejects.toMatchObject({ code: 'offline' });
  });

  it('sends a read mark once per seq however often the view asks, and not while offline', () => {
    const { live, timers, last } = harness();
    live.start();
    last().open();
    live.read('conv', 3);
    live.read('conv', 3);
    live.read('conv', 2);
    expect(last().ofType('receipt')).toEqual([{ type: 'receipt', conversationId: 'conv', deliveredSeq: 3, readSeq: 3 }]);
    last().drop();
    live.read('conv', 4); // offline: not sent, so not remembered as sent
    timers.shift()!();
    last().open();
    live.read('conv', 4);
    expect(last().ofType('receipt')).toEqual([{ type: 'receipt', conversationId: 'conv', deliveredSeq: 4, readSeq: 4 }]);
  });

  it('reports each new message once, for notifications', () => {
    const { live, seen, last } = harness();
    live.start();
    live.watch('conv');
    last().open();
    last().push({ type: 'message', message: msg(1) });
    last().push({ type: 'message', message: msg(1) });
    expect(seen.map((m) => m.seq)).toEqual([1]);
  });
});
