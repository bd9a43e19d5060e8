import { describe, expect, it } from 'vitest';
import { elapsed, orderQueue, Timeline } from '../src/timeline';
import type { Message } from '../src/model';

const msg = (seq: number, role: Message['senderRole'] = 'consumer'): Message => ({
  conversationId: 'c', seq, kind: 'text', senderRole: role, senderId: null, clientMessageId: null, text: `m${seq}`,
  sentAt: new Date(1_800_000_000_000 + seq * 1000).toISOString(),
});

describe('Timeline', () => {
  it('orders by seq whatever the arrival order, keeps each seq once, and resumes after the first gap', () => {
    const timeline = new Timeline();
    for (const seq of [1, 3, 2, 5, 3]) {
      timeline.add(msg(seq));
    }
    expect(timeline.messages.map((m) => m.seq)).toEqual([1, 2, 3, 5]);
    expect(timeline.resumeFrom).toBe(3); // 4 is missing: resubscribe from 3
    expect(timeline.lastSeq).toBe(5);
    timeline.add(msg(4));
    expect(timeline.resumeFrom).toBe(5);
  });

  it('knows when the consumer last wrote', () => {
    const timeline = new Timeline();
    timeline.add(msg(1));
    timeline.add(msg(2, 'agent'));
    expect(timeline.lastConsumerMessageAt).toBe(msg(1).sentAt);
  });
});

describe('orderQueue', () => {
  it('puts higher priority first, then the longest waiting, then by id', () => {
    const at = (s: number) => new Date(1_800_000_000_000 + s * 1000).toISOString();
    const items = [
      { id: 'b', priority: 0, queuedAt: at(1), createdAt: at(0) },
      { id: 'c', priority: 100, queuedAt: at(9), createdAt: at(0) },
      { id: 'a', priority: 0, queuedAt: at(1), createdAt: at(0) },
      { id: 'd', priority: 0, queuedAt: at(0), createdAt: at(0) },
      { id: 'e', priority: 10, queuedAt: null, createdAt: at(5) },
    ];
    expect(orderQueue(items).map((i) => i.id)).toEqual(['c', 'e', 'd', 'a', 'b']);
  });
});

describe('elapsed', () => {
  it('reads like a wait time', () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    expect(elapsed('2026-11-21T09:59:18Z', now)).toBe('42 s');
    expect(elapsed('2026-11-21T09:55:00Z', now)).toBe('5 min');
    expect(elapsed('2026-11-21T07:55:00Z', now)).toBe('2 h 5 min');
    expect(elapsed(null, now)).toBe('');
  });
});
