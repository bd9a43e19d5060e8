import type { Message } from './protocol';

/** A message the visitor sent that the server has not acknowledged yet. */
export interface Pending {
  clientMessageId: string;
  text: string;
}

/**
 * One conversation's messages in seq order, exactly once: replays after a reconnect, the echo of
 * the visitor's own sends and live traffic may overlap, and only the first copy of each seq counts.
 * Messages the visitor sent are pending until the server's copy (same clientMessageId) arrives.
 */
export class Timeline {
  private readonly bySeq = new Map<number, Message>();
  private readonly pending = new Map<string, Pending>();
  private readonly stored = new Set<string>();
  lastSeq = 0;

  /** Adds a message; false when it was already there (a duplicate to ignore). */
  add(message: Message): boolean {
    if (this.bySeq.has(message.seq)) {
      return false;
    }
    this.bySeq.set(message.seq, message);
    this.lastSeq = Math.max(this.lastSeq, message.seq);
    if (message.clientMessageId) {
      this.stored.add(message.clientMessageId);
      this.pending.delete(message.clientMessageId);
    }
    return true;
  }

  /** Queues a message the visitor is sending (unless the server already has it). */
  send(pending: Pending): void {
    if (!this.stored.has(pending.clientMessageId)) {
      this.pending.set(pending.clientMessageId, pending);
    }
  }

  /** The server stored the message: it is no longer pending, even before its copy arrives. */
  acknowledge(clientMessageId: string): void {
    this.stored.add(clientMessageId);
    this.pending.delete(clientMessageId);
  }

  isStored(clientMessageId: string): boolean {
    return this.stored.has(clientMessageId);
  }

  /** Messages in seq order. */
  messages(): Message[] {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Unsent messages in the order the visitor wrote them. */
  unsent(): Pending[] {
    return [...this.pending.values()];
  }

  /** Messages from the other side (agent, bot, system) after `seq`. */
  fromOthersAfter(seq: number): number {
    let count = 0;
    for (const m of this.bySeq.values()) {
      if (m.seq > seq && m.senderRole !== 'consumer' && m.kind === 'text') {
        count++;
      }
    }
    return count;
  }
}
