import { describe, expect, it } from 'vitest';
import { Timeline } from '../src/timeline';
import { msg } from './fake';

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

  it('a written message is pending until its stored copy arrives; acknowledged, it is no longer sent', () => {
    const timeline = new Timeline();
    timeline.queue({ clientMessageId: 'a', text: '1' });
    timeline.queue({ clientMessageId: 'b', text: '2' });
    timeline.acknowledged('a');
    expect(timeline.pending.map((p) => p.clientMessageId)).toEqual(['a', 'b']);
    expect(timeline.unsent.map((p) => p.clientMessageId)).toEqual(['b']);
    timeline.add(msg(1, { clientMessageId: 'a' }));
    expect(timeline.pending.map((p) => p.clientMessageId)).toEqual(['b']);
  });

  it('does not queue again a message the server already stored (an outbox entry left by a reload)', () => {
    const timeline = new Timeline();
    timeline.add(msg(1, { clientMessageId: 'a' }));
    timeline.queue({ clientMessageId: 'a', text: 'hi' });
    expect(timeline.pending).toEqual([]);
  });

  it('a refused message stays pending with its reason, is not sent until retried, and can be discarded', () => {
    const timeline = new Timeline();
    timeline.queue({ clientMessageId: 'a', text: '1' });
    timeline.refused('a', 'The conversation is closed.');
    expect(timeline.pending).toEqual([{ clientMessageId: 'a', text: '1', error: 'The conversation is closed.' }]);
    expect(timeline.unsent).toEqual([]);
    expect(timeline.unacknowledged).toHaveLength(1);
    timeline.retry();
    expect(timeline.unsent).toEqual([{ clientMessageId: 'a', text: '1' }]);
    timeline.discard('a');
    expect(timeline.pending).toEqual([]);
  });
});
