import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startChannel } from '../../../docs/examples/client-channel';
import type { Message } from '../src/frames';
import { msg, sockets } from './fake';

describe('docs/examples/client-channel.ts', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('starts a session, authenticates, starts a conversation, and resends an unacknowledged message once after a reconnect', async () => {
    const s = sockets();
    let token: string | null = null;
    const bodies: unknown[] = [];
    const shown: Message[] = [];
    const fetch = (async (_url: string, init: RequestInit) => {
      bodies.push(JSON.parse(String(init.body)));
      return { json: async () => ({ visitorToken: 'pvt_1' }) };
    }) as unknown as typeof globalThis.fetch;
    const starting = startChannel({
      base: 'https://chat.brand.example', deploymentId: 'd1', fetch, createSocket: s.create,
      saved: { get: () => token, set: (t) => { token = t; } }, show: (m) => shown.push(m),
    });
    await vi.waitFor(() => expect(s.all).toHaveLength(1));
    s.last().open('consumer');
    expect(s.last().sent[0]).toEqual({ type: 'auth', token: 'pvt_1' });
    await vi.waitFor(() => expect(s.last().ofType('conversation.start')).toHaveLength(1));
    const start = s.last().ofType('conversation.start')[0];
    s.last().push({
      type: 'conversation', requestId: start.requestId!,
      conversation: { id: 'conv', status: 'open', agentAssigned: false, lastSeq: 0, createdAt: '', closedAt: null, authenticated: false },
    });
    const channel = await starting;
    expect(bodies).toEqual([{ deploymentId: 'd1', visitorToken: null }]);
    expect(token).toBe('pvt_1');
    expect(s.last().ofType('conversation.subscribe')).toEqual([{ type: 'conversation.subscribe', conversationId: 'conv', since: 0 }]);
    s.last().push({ type: 'message', message: msg(1, { senderRole: 'bot', text: 'Hi! How can I help?' }) });
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 1 });

    const id = channel.say('Where is my order?');
    s.last().drop();
    vi.runOnlyPendingTimers();
    s.last().open('consumer');
    expect(s.last().ofType('conversation.subscribe')).toEqual([{ type: 'conversation.subscribe', conversationId: 'conv', since: 1 }]);
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 1, lastSeq: 1 });
    expect(s.last().ofType('message.send')).toEqual([{ type: 'message.send', conversationId: 'conv', clientMessageId: id, text: 'Where is my order?' }]);
    s.last().push({ type: 'message', message: msg(2, { text: 'Where is my order?', clientMessageId: id }) });
    s.last().push({ type: 'message.ack', conversationId: 'conv', clientMessageId: id, seq: 2, sentAt: '', duplicate: false });
    expect(shown.map((m) => m.text)).toEqual(['Hi! How can I help?', 'Where is my order?']);
    expect(channel.pending()).toEqual([]);
    channel.close();
  });
});
