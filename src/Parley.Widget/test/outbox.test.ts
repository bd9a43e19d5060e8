import { describe, expect, it } from 'vitest';
import { Outbox } from '../src/outbox';
import { DeviceStorage } from '../src/storage';

class MemoryStorage {
  private readonly items = new Map<string, string>();
  getItem(key: string) { return this.items.get(key) ?? null; }
  setItem(key: string, value: string) { this.items.set(key, value); }
  removeItem(key: string) { this.items.delete(key); }
  get size() { return this.items.size; }
}

describe('Outbox', () => {
  it('survives a reload: another outbox on the same storage sees the unsent messages in order', () => {
    const memory = new MemoryStorage();
    const storage = () => memory as unknown as Storage;
    const first = new Outbox(new DeviceStorage('parley.d.', storage));
    first.add('c1', { clientMessageId: 'a', text: 'one' });
    first.add('c1', { clientMessageId: 'b', text: 'two' });
    first.add('c1', { clientMessageId: 'a', text: 'one' });
    const reloaded = new Outbox(new DeviceStorage('parley.d.', storage));
    expect(reloaded.list('c1').map((p) => p.clientMessageId)).toEqual(['b', 'a']);
    expect(reloaded.list('c2')).toEqual([]);
  });

  it('forgets acknowledged messages and leaves no key behind when empty', () => {
    const memory = new MemoryStorage();
    const outbox = new Outbox(new DeviceStorage('p.', () => memory as unknown as Storage));
    outbox.add('c', { clientMessageId: 'a', text: 'x' });
    outbox.remove('c', 'a');
    expect(outbox.list('c')).toEqual([]);
    expect(memory.size).toBe(0);
  });

  it('keeps what the sync saves, and nothing when it saves an empty list', () => {
    const memory = new MemoryStorage();
    const outbox = new Outbox(new DeviceStorage('p.', () => memory as unknown as Storage));
    outbox.save('c', [{ clientMessageId: 'a', text: 'x', error: 'Closed.' }]);
    expect(outbox.load('c')).toEqual([{ clientMessageId: 'a', text: 'x' }]);
    outbox.save('c', []);
    expect(memory.size).toBe(0);
  });

  it('works, without remembering, when storage is blocked', () => {
    const blocked = () => { throw new Error('SecurityError'); };
    const outbox = new Outbox(new DeviceStorage('p.', blocked));
    expect(() => outbox.add('c', { clientMessageId: 'a', text: 'x' })).not.toThrow();
    expect(outbox.list('c')).toEqual([]);
  });
});
