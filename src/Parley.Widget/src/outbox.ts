import type { OutboxStore } from '../../Parley.Client/src/sync';
import type { Pending } from '../../Parley.Client/src/timeline';
import type { DeviceStorage } from './storage';

/**
 * Messages written but not yet acknowledged, kept on the device so that a reload, a navigation or
 * a lost connection does not lose them. They are resent with the same clientMessageId, which the
 * server stores once.
 */
export class Outbox implements OutboxStore {
  constructor(private readonly storage: DeviceStorage) {}

  private key(conversationId: string): string {
    return `outbox.${conversationId}`;
  }

  list(conversationId: string): Pending[] {
    return this.storage.get<Pending[]>(this.key(conversationId)) ?? [];
  }

  load(conversationId: string): Pending[] {
    return this.list(conversationId);
  }

  save(conversationId: string, items: readonly Pending[]): void {
    if (items.length > 0 || this.list(conversationId).length > 0) {
      this.storage.set(this.key(conversationId), items.length > 0 ? items.map(({ clientMessageId, text }) => ({ clientMessageId, text })) : null);
    }
  }

  add(conversationId: string, pending: Pending): void {
    const items = this.list(conversationId).filter((p) => p.clientMessageId !== pending.clientMessageId);
    items.push(pending);
    this.storage.set(this.key(conversationId), items);
  }

  remove(conversationId: string, clientMessageId: string): void {
    this.save(conversationId, this.list(conversationId).filter((p) => p.clientMessageId !== clientMessageId));
  }

  clear(conversationId: string): void {
    this.storage.set(this.key(conversationId), null);
  }
}
