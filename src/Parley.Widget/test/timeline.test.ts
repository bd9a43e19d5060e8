import { describe, expect, it } from 'vitest';
import type { Message } from '../src/protocol';
import { Timeline } from '../src/timeline';

const message = (seq: number, senderRole: Message['senderRole'] = 'agent', clientMessageId: string | null = null, kind: Message['kind'] = 'text'): Message => ({
  conversationId: 'c', seq, kind, senderRole, senderId: null, clientMessageId, text: `m${seq}`, sentAt: '2026-11-21T00:00:00Z',
});

describe('Timeline', () => {
  it('keeps messages in seq order whatever order they arrive in', () => {
    const timeline = new Timeline();
    for (const seq of [3, 1, 2]) {
      timeline.add(message(seq));
    }
    expect(timeline.messages().map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(timeline.lastSeq).toBe(3);
  });

  it('ignores a replayed seq after a reconnect', () => {
    const timeline = new Timeline();
    expect(timeline.add(message(1))).toBe(true);
    expect(timeline.add(message(1))).toBe(false);
    expect(timeline.messages()).toHaveLength(1);
  });

  it('shows a sent message as pending until the stored copy with its clientMessageId arrives', () => {
    const timeline = new Timeline();
    timeline.send({ clientMessageId: 'a', text: 'hi' });
    expect(timeline.unsent()).toEqual([{ clientMessageId: 'a', text: 'hi' }]);
    timeline.add(message(1, 'consumer', 'a'));
    expect(timeline.unsent()).toEqual([]);
    expect(timeline.messages()).toHaveLength(1);
  });

  it('does not queue again a message the server already stored (an outbox entry left by a reload)', () => {
    const timeline = new Timeline();
    timeline.add(message(1, 'consumer', 'a'));
    timeline.send({ clientMessageId: 'a', text: 'hi' });
    expect(timeline.unsent()).toEqual([]);
  });

  it('an acknowledgement ends pending even before the stored copy arrives, and unsent keeps the writing order', () => {
    const timeline = new Timeline();
    timeline.send({ clientMessageId: 'a', text: '1' });
    timeline.send({ clientMessageId: 'b', text: '2' });
    timeline.send({ clientMessageId: 'c', text: '3' });
    timeline.acknowledge('b');
    expect(timeline.unsent().map((p) => p.clientMessageId)).toEqual(['a', 'c']);
    expect(timeline.isStored('b')).toBe(true);
  });

  it('counts unread text from the other side only', () => {
    const timeline = new Timeline();
    timeline.add(message(1, 'bot'));
    timeline.add(message(2, 'consumer', 'x'));
    timeline.add(message(3, 'system', null, 'event'));
    timeline.add(message(4, 'agent'));
    timeline.add(message(5, 'agent'));
    expect(timeline.fromOthersAfter(0)).toBe(3);
    expect(timeline.fromOthersAfter(4)).toBe(1);
  });
});
