import type { Conversation, Message } from './model';

/** A message the agent wrote that the server has not acknowledged yet (kept, and resent after a reconnect). */
export interface Pending {
  clientMessageId: string;
  text: string;
  /** Set when the server refused it for good (e.g. the conversation was closed). */
  error?: string;
}

/**
 * One conversation's messages as the agent sees them: in seq order, each once, whatever order
 * replay and live frames arrive in, plus the agent's own messages not yet acknowledged.
 */
export class Timeline {
  private readonly bySeq = new Map<number, Message>();
  private sorted: Message[] = [];
  private readonly pending = new Map<string, Pending>();
  private contiguous = 0;

  /** Adds a message; false when that seq was already there. */
  add(message: Message): boolean {
    if (this.bySeq.has(message.seq)) {
      return false;
    }
    this.bySeq.set(message.seq, message);
    if (this.sorted.length === 0 || this.sorted[this.sorted.length - 1].seq < message.seq) {
      this.sorted.push(message);
    } else {
      this.sorted = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    }
    while (this.bySeq.has(this.contiguous + 1)) {
      this.contiguous++;
    }
    if (message.clientMessageId) {
      this.pending.delete(message.clientMessageId);
    }
    return true;
  }

  /** The highest seq up to which nothing is missing: where a resubscription resumes. */
  get resumeFrom(): number {
    return this.contiguous;
  }

  get messages(): readonly Message[] {
    return this.sorted;
  }

  get lastSeq(): number {
    return this.sorted.length ? this.sorted[this.sorted.length - 1].seq : 0;
  }

  /** The time of the consumer's last text message, or null. */
  get lastConsumerMessageAt(): string | null {
    for (let i = this.sorted.length - 1; i >= 0; i--) {
      const m = this.sorted[i];
      if (m.kind === 'text' && m.senderRole === 'consumer') {
        return m.sentAt;
      }
    }
    return null;
  }

  queue(item: Pending): void {
    this.pending.set(item.clientMessageId, item);
  }

  /** The server stored it: the message itself follows (or came first) on the subscription. */
  acknowledged(clientMessageId: string, seq: number): void {
    if (this.bySeq.has(seq)) {
      this.pending.delete(clientMessageId);
    }
  }

  refused(clientMessageId: string, error: string): void {
    const item = this.pending.get(clientMessageId);
    if (item) {
      this.pending.set(clientMessageId, { ...item, error });
    }
  }

  discard(clientMessageId: string): void {
    this.pending.delete(clientMessageId);
  }

  /** Unacknowledged messages in the order written; refused ones are not resent. */
  get unacknowledged(): readonly Pending[] {
    return [...this.pending.values()];
  }
}

/** The waiting line as agents work it: highest priority first, then longest waiting. */
export function orderQueue<T extends Pick<Conversation, 'id' | 'priority' | 'queuedAt' | 'createdAt'>>(items: readonly T[]): T[] {
  return [...items].sort((a, b) =>
    (b.priority ?? 0) - (a.priority ?? 0)
    || Date.parse(a.queuedAt ?? a.createdAt) - Date.parse(b.queuedAt ?? b.createdAt)
    || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** "42 s", "5 min", "2 h 5 min": how long something has waited. */
export function elapsed(since: string | null | undefined, now: number): string {
  if (!since) {
    return '';
  }
  const seconds = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (seconds < 60) {
    return `${seconds} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}
