import { describe, expect, it } from 'vitest';
import { elapsed, lastConsumerMessageAt, orderQueue } from '../src/timeline';
import type { Message } from '../src/model';

const msg = (seq: number, role: Message['senderRole'] = 'consumer'): Message => ({
  conversationId: 'c', seq, kind: 'text', senderRole: role, senderId: null, clientMessageId: null, text: `m${seq}`,
  sentAt: new Date(1_800_000_000_000 + seq * 1000).toISOString(),
});

describe('lastConsumerMessageAt', () => {
  it('knows when the consumer last wrote', () => {
    expect(lastConsumerMessageAt([msg(1), msg(2, 'agent')])).toBe(msg(1).sentAt);
    expect(lastConsumerMessageAt([msg(2, 'agent')])).toBeNull();
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
