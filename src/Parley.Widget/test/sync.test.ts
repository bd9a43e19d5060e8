import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection } from '../../Parley.Client/src/connection';
import { msg, sockets } from '../../Parley.Client/test/fake';
import { Outbox } from '../src/outbox';
import type { Notice } from '../src/protocol';
import { VisitorSync, type SyncHost } from '../src/sync';
import { memoryDevice } from './memory';

const conversation = (id: string, status: 'open' | 'closed' = 'open') => ({
  id, status, agentAssigned: false, lastSeq: 0, createdAt: '', closedAt: null, authenticated: false,
});

function harness(device = memoryDevice()) {
  const s = sockets();
  let ids = 0;
  const connection = new Connection({ url: 'ws://x', token: () => 'pvt', createSocket: s.create });
  const notice: Notice = { text: null, blocked: false };
  const calls: string[] = [];
  const host: SyncHost = {
    message: (m, live) => calls.push(`message ${m.seq}${live ? ' live' : ''}`),
    subscribed: () => calls.push('subscribed'),
    typing: (text) => calls.push(`typing ${text}`),
    switched: () => calls.push('switched'),
    session: () => calls.push('session'),
    expired: () => calls.push('expired'),
    loginFailed: (error) => calls.push(`login failed ${error}`),
    historyCleared: () => calls.push('cleared'),
    refresh: () => undefined,
  };
  const outbox = new Outbox(device);
  const sync = new VisitorSync(connection, outbox, notice, () => ({ page: '/pricing' }), () => `c-${++ids}`, host);
  connection.start();
  return { sync, s, notice, calls, outbox, connection };
}

describe('VisitorSync', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a message written before the conversation exists starts it, is kept in the outbox and sent once subscribed', () => {
    const { sync, s, outbox } = harness();
    s.last().open('consumer');
    sync.send('Hello');
    expect(sync.pending.map((p) => p.text)).toEqual(['Hello']);
    expect(s.last().ofType('conversation.start')).toEqual([{ type: 'conversation.start', requestId: 'start', attributes: { page: '/pricing' } }]);
    s.last().push({ type: 'conversation', requestId: 'start', conversation: conversation('conv') });
    expect(sync.conversationId).toBe('conv');
    expect(outbox.list('conv')).toEqual([{ clientMessageId: 'c-1', text: 'Hello' }]);
    expect(s.last().ofType('conversation.subscribe')).toEqual([{ type: 'conversation.subscribe', conversationId: 'conv', since: 0 }]);
    expect(s.last().ofType('message.send')).toEqual([]);
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    expect(s.last().ofType('message.send')).toEqual([{ type: 'message.send', conversationId: 'conv', clientMessageId: 'c-1', text: 'Hello' }]);
    s.last().push({ type: 'message', message: msg(1, { text: 'Hello', clientMessageId: 'c-1' }) });
    s.last().push({ type: 'message.ack', conversationId: 'conv', clientMessageId: 'c-1', seq: 1, sentAt: '', duplicate: false });
    expect(outbox.list('conv')).toEqual([]);
    expect(sync.pending).toEqual([]);
  });

  it('resumes after a reconnect from the last gapless seq, not from the highest one', () => {
    const { sync, s } = harness();
    sync.switchTo('conv');
    s.last().open('consumer');
    for (const seq of [1, 2, 5]) {
      s.last().push({ type: 'message', message: msg(seq, { senderRole: 'agent' }) });
    }
    s.last().drop();
    vi.runOnlyPendingTimers();
    s.last().open('consumer');
    expect(s.last().ofType('conversation.subscribe').map((f) => f.since)).toEqual([2]);
    expect(sync.timeline.lastSeq).toBe(5);
  });

  it('a mid-chat login that merged the conversation into the customer\'s continues in that one', () => {
    const { sync, s, calls } = harness();
    sync.switchTo('anonymous');
    s.last().open('consumer');
    s.last().push({ type: 'subscribed', conversationId: 'anonymous', since: 0, lastSeq: 0 });
    s.last().push({
      type: 'session', requestId: 'login', visitorToken: 'pvt-2', consumerId: 'ada', authenticated: true, expiresAt: '2030-01-01T00:00:00Z',
      conversation: { ...conversation('customers'), authenticated: true },
    });
    expect(calls).toContain('session');
    expect(sync.conversationId).toBe('customers');
    expect(sync.status).toBe('open');
    expect(s.last().ofType('conversation.subscribe').map((f) => f.conversationId)).toEqual(['anonymous', 'customers']);
  });

  it('follows the status from events and frames, the agent\'s read mark and typing', () => {
    const { sync, s, calls } = harness();
    sync.switchTo('conv');
    s.last().open('consumer');
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    s.last().push({ type: 'message', message: msg(1, { kind: 'event', text: 'conversation.closed', senderRole: 'agent' }) });
    expect(sync.status).toBe('closed');
    s.last().push({ type: 'message', message: msg(2, { kind: 'event', text: 'conversation.resumed', senderRole: 'agent' }) });
    expect(sync.status).toBe('open');
    s.last().push({ type: 'receipt', receipt: { conversationId: 'conv', participantId: 'a', role: 'agent', deliveredSeq: 2, readSeq: 2, updatedAt: '' } });
    s.last().push({ type: 'receipt', receipt: { conversationId: 'conv', participantId: 'u', role: 'consumer', deliveredSeq: 9, readSeq: 9, updatedAt: '' } });
    expect(sync.readUpTo).toBe(2);
    s.last().push({ type: 'typing', conversationId: 'conv', participantId: 'a', role: 'agent', isTyping: true });
    s.last().push({ type: 'typing', conversationId: 'conv', participantId: 'u', role: 'consumer', isTyping: true });
    expect(calls.filter((c) => c.startsWith('typing'))).toEqual(['typing The agent is typing…']);
    expect(calls.filter((c) => c.startsWith('message'))).toEqual(['message 1 live', 'message 2 live']);
  });

  it('a message the server refuses as too long is dropped with a notice; an unknown conversation is left', () => {
    const { sync, s, notice, outbox } = harness();
    sync.switchTo('conv');
    s.last().open('consumer');
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    sync.send('x'.repeat(5000));
    s.last().push({ type: 'error', code: 'message_too_long', message: 'The message is too long.', retryable: false, conversationId: 'conv', clientMessageId: 'c-1' });
    expect(sync.pending).toEqual([]);
    expect(outbox.list('conv')).toEqual([]);
    expect(notice.text).toBe('The message is too long.');
    s.last().push({ type: 'error', code: 'not_found', message: 'Not found.', retryable: false, conversationId: 'conv' });
    expect(sync.conversationId).toBeNull();
  });

  it('a send refused while closed is resent once the conversation is resumed; an expired login is the session\'s to renew', () => {
    const { sync, s, calls } = harness();
    sync.switchTo('conv');
    s.last().open('consumer');
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    sync.send('late');
    s.last().push({ type: 'error', code: 'conversation_closed', message: 'Closed.', retryable: false, conversationId: 'conv', clientMessageId: 'c-1' });
    expect(sync.status).toBe('closed');
    expect(sync.pending.map((p) => p.text)).toEqual(['late']);
    s.last().push({ type: 'message', message: msg(1, { kind: 'event', text: 'conversation.resumed', senderRole: 'consumer' }) });
    expect(s.last().ofType('message.send').map((f) => f.clientMessageId)).toEqual(['c-1', 'c-1']);
    s.last().push({ type: 'error', code: 'authentication_expired', message: 'Expired.', retryable: false, conversationId: 'conv', clientMessageId: 'c-1' });
    s.last().push({ type: 'history.cleared', conversationId: 'conv' });
    expect(calls.filter((c) => c === 'expired' || c === 'cleared')).toEqual(['expired', 'cleared']);
  });

  it('after a reload, what the outbox kept is shown and resent with the same clientMessageId', () => {
    const device = memoryDevice();
    new Outbox(device).add('conv', { clientMessageId: 'old', text: 'kept' });
    const { sync, s } = harness(device);
    sync.switchTo('conv');
    expect(sync.pending.map((p) => p.text)).toEqual(['kept']);
    s.last().open('consumer');
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    expect(s.last().ofType('message.send').map((f) => f.clientMessageId)).toEqual(['old']);
  });
});
