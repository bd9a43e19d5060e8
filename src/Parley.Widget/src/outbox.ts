import type { DeviceStorage } from './storage';
import type { Pending } from './timeline';

/**
 * Messages written but not yet acknowledged, kept on the device so that a reload, a navigation or
 * a lost connection does not lose them. They are resent with the same clientMessageId, which the
 * server stores once.
 */
export class Outbox {
  constructor(private readonly storage: DeviceStorage) {}

  private key(conversationId: string): string {
    return `outbox.${conversationId}`;
  }

  list(conversationId: string): Pending[] {
    return this.storage.get<Pending[]>(this.key(conversationId)) ?? [];
  }

  add(conversationId: string, pending: Pending): void {
    const items = this.list(conversationId).filter((p) => p.clientMessageId !== pending.clientMessageId);
    items.push(pending);
    this.storage.set(this.key(conversationId), items);
  }

  remove(conversationId: string, clientMessageId: string): void {
    const items = this.list(conversationId);
    const left = items.filter((p) => p.clientMessageId !== clientMessageId);
    if (left.length !== items.length) {
      this.storage.set(this.key(conversationId), left.length > 0 ? left : null);
    }
  }

  clear(conversationId: string): void {
    this.storage.set(this.key(conversationId), null);
  }
}
