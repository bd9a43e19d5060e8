import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection } from '../src/connection';
import type { Message } from '../src/frames';
import { ConversationSync, type OutboxStore } from '../src/sync';
import type { Pending } from '../src/timeline';
import { msg, sockets } from './fake';

function harness(store?: OutboxStore) {
  const s = sockets();
  let ids = 0;
  const connection = new Connection({ url: 'ws://x', createSocket: s.create });
  const seen: Message[] = [];
  const refused: string[] = [];
  const sync = new ConversationSync(connection, { message: (m) => seen.push(m), refused: (_, id) => refused.push(id) }, { store, newId: () => `c-${++ids}` });
  connection.start();
  return { connection, sync, seen, refused, s, reconnect: () => { s.last().drop(); vi.runOnlyPendingTimers(); s.last().open(); } };
}

describe('ConversationSync', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('resumes after a reconnect from the last gapless seq, and keeps each seq once', () => {
    const { sync, s, reconnect } = harness();
    const timeline = sync.watch('conv');
    s.last().open();
    expect(s.last().ofType('conversation.subscribe')).toEqual([{ type: 'conversation.subscribe', conversationId: 'conv', since: 0 }]);
    for (const seq of [1, 2, 4]) {
      s.last().push({ type: 'message', message: msg(seq) });
    }
    reconnect();
    // 3 is missing: resume from 2 (not from 4, which would lose 3 for good).
    expect(s.last().ofType('conversation.subscribe')).toEqual([{ type: 'conversation.subscribe', conversationId: 'conv', since: 2 }]);
    s.last().push({ type: 'message', message: msg(3) });
    s.last().push({ type: 'message', message: msg(4) });
    expect(timeline.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(timeline.resumeFrom).toBe(4);
  });

  it('sends after subscribed, resends unacknowledged messages with their clientMessageId after a reconnect, and shows each once', () => {
    const { sync, s, reconnect } = harness();
    const timeline = sync.watch('conv');
    s.last().open();
    const first = sync.send('conv', 'Let me check');
    expect(s.last().ofType('message.send')).toEqual([]); // replay first
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    expect(s.last().ofType('message.send')).toEqual([{ type: 'message.send', conversationId: 'conv', clientMessageId: first, text: 'Let me check' }]);

    s.last().drop(); // no ack: was it stored? Only the server knows.
    const offline = sync.send('conv', 'Written while offline');
    expect(timeline.pending.map((p) => p.text)).toEqual(['Let me check', 'Written while offline']);
    vi.runOnlyPendingTimers();
    s.last().open();
    // It had been stored: replay brings it before subscribed, so only the other one is resent.
    s.last().push({ type: 'message', message: msg(1, { text: 'Let me check', senderRole: 'agent', clientMessageId: first }) });
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 1 });
    expect(s.last().ofType('message.send').map((f) => f.clientMessageId)).toEqual([offline]);
    s.last().push({ type: 'message.ack', conversationId: 'conv', clientMessageId: offline, seq: 2, sentAt: '', duplicate: false });
    expect(timeline.unsent).toEqual([]);
    expect(timeline.pending.map((p) => p.clientMessageId)).toEqual([offline]); // shown until its message arrives
    s.last().push({ type: 'message', message: msg(2, { text: 'Written while offline', senderRole: 'agent', clientMessageId: offline }) });
    expect(timeline.messages.map((m) => m.text)).toEqual(['Let me check', 'Written while offline']);
    expect(timeline.pending).toEqual([]);
    reconnect();
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 2, lastSeq: 2 });
    expect(s.last().ofType('message.send')).toEqual([]);
  });

  it('keeps a refused message with the reason and does not resend it until retried; resends one the database could not store', () => {
    const { sync, s, refused } = harness();
    const timeline = sync.watch('conv');
    s.last().open();
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    const closed = sync.send('conv', 'too late');
    s.last().push({ type: 'error', code: 'conversation_closed', message: 'The conversation is closed.', retryable: false, conversationId: 'conv', clientMessageId: closed });
    expect(timeline.pending[0].error).toBe('The conversation is closed.');
    expect(refused).toEqual([closed]);

    const busy = sync.send('conv', 'retry me');
    s.last().push({ type: 'error', code: 'storage_unavailable', message: 'busy', retryable: true, conversationId: 'conv', clientMessageId: busy });
    vi.advanceTimersByTime(2000);
    expect(s.last().ofType('message.send').filter((f) => f.clientMessageId === busy)).toHaveLength(2);
    expect(s.last().ofType('message.send').filter((f) => f.clientMessageId === closed)).toHaveLength(1);
    sync.retry('conv');
    expect(s.last().ofType('message.send').filter((f) => f.clientMessageId === closed)).toHaveLength(2);
  });

  it('keeps a message refused for an expired login, to resend on the next subscription', () => {
    const { sync, s, reconnect } = harness();
    const timeline = sync.watch('conv');
    s.last().open();
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    const id = sync.send('conv', 'after expiry');
    s.last().push({ type: 'error', code: 'authentication_expired', message: 'expired', retryable: false, conversationId: 'conv', clientMessageId: id });
    expect(timeline.unsent.map((p) => p.clientMessageId)).toEqual([id]);
    reconnect();
    s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    expect(s.last().ofType('message.send').map((f) => f.clientMessageId)).toEqual([id]);
  });

  it('keeps unacknowledged messages in the store: a reload resends them, a stored copy ends them', () => {
    const saved = new Map<string, readonly Pending[]>();
    const store: OutboxStore = { load: (id) => [...(saved.get(id) ?? [])], save: (id, items) => saved.set(id, items) };
    const before = harness(store);
    before.sync.send('conv', 'hello');
    expect(saved.get('conv')).toEqual([{ clientMessageId: 'c-1', text: 'hello' }]);

    const after = harness(store); // the page reloaded
    const timeline = after.sync.watch('conv');
    expect(timeline.pending.map((p) => p.text)).toEqual(['hello']);
    after.s.last().open();
    after.s.last().push({ type: 'subscribed', conversationId: 'conv', since: 0, lastSeq: 0 });
    expect(after.s.last().ofType('message.send').map((f) => f.clientMessageId)).toEqual(['c-1']);
    after.s.last().push({ type: 'message.ack', conversationId: 'conv', clientMessageId: 'c-1', seq: 1, sentAt: '', duplicate: true });
    expect(saved.get('conv')).toEqual([]);
  });

  it('reports each new message once, and keeps the latest receipt of each participant', () => {
    const { sync, s, seen } = harness();
    sync.watch('conv');
    s.last().open();
    s.last().push({ type: 'message', message: msg(1) });
    s.last().push({ type: 'message', message: msg(1) });
    s.last().push({ type: 'message', message: msg(1, { conversationId: 'other' }) });
    const receipt = { conversationId: 'conv', participantId: 'u', role: 'consumer' as const, deliveredSeq: 1, readSeq: 0, updatedAt: '' };
    s.last().push({ type: 'receipt', receipt });
    s.last().push({ type: 'receipt', receipt: { ...receipt, readSeq: 1 } });
    expect(seen.map((m) => m.seq)).toEqual([1]);
    expect(sync.receipts.get('conv')).toEqual([{ ...receipt, readSeq: 1 }]);
  });
});
