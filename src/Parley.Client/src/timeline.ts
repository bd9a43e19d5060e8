import type { Message } from './frames';

/** A message written on this device that is not in the timeline yet. */
export interface Pending {
  clientMessageId: string;
  text: string;
  /** Set when the server refused it (e.g. the conversation is closed): not resent until `retry`. */
  error?: string;
}

/**
 * One conversation's messages in seq order, each once, whatever order replay and live frames
 * arrive in, plus the messages written here that are not in it yet. `resumeFrom` is the last seq
 * up to which nothing is missing: where a resubscription starts, so a gap is filled, never skipped.
 */
export class Timeline {
  private readonly bySeq = new Map<number, Message>();
  private sorted: Message[] = [];
  private contiguous = 0;
  private readonly written = new Map<string, Pending>();
  /** clientMessageIds the server has stored (acknowledged, or their message is here). */
  private readonly stored = new Set<string>();

  /** Adds a message; false when that seq was already there (a duplicate to ignore). */
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
      this.stored.add(message.clientMessageId);
      this.written.delete(message.clientMessageId);
    }
    return true;
  }

  get messages(): readonly Message[] {
    return this.sorted;
  }

  get lastSeq(): number {
    return this.sorted.length ? this.sorted[this.sorted.length - 1].seq : 0;
  }

  /** The highest seq up to which nothing is missing. */
  get resumeFrom(): number {
    return this.contiguous;
  }

  /** Queues a message written here, unless the server already has it (an outbox entry left by a reload). */
  queue(item: Pending): void {
    if (!this.stored.has(item.clientMessageId)) {
      this.written.set(item.clientMessageId, item);
    }
  }

  /** The server stored it: not resent any more; it shows as pending until its message arrives. */
  acknowledged(clientMessageId: string): void {
    this.stored.add(clientMessageId);
  }

  refused(clientMessageId: string, error: string): void {
    const item = this.written.get(clientMessageId);
    if (item) {
      this.written.set(clientMessageId, { ...item, error });
    }
  }

  /** Makes refused messages sendable again (e.g. after the conversation was resumed). */
  retry(): void {
    for (const [id, item] of this.written) {
      if (item.error !== undefined) {
        this.written.set(id, { clientMessageId: item.clientMessageId, text: item.text });
      }
    }
  }

  discard(clientMessageId: string): void {
    this.written.delete(clientMessageId);
  }

  /** Written here and not in the timeline yet, in the order written: what to show as sending (or refused). */
  get pending(): readonly Pending[] {
    return [...this.written.values()];
  }

  /** Not acknowledged: what a device keeps across reloads. */
  get unacknowledged(): readonly Pending[] {
    return this.pending.filter((p) => !this.stored.has(p.clientMessageId));
  }

  /** What to (re)send: not acknowledged and not refused. */
  get unsent(): readonly Pending[] {
    return this.unacknowledged.filter((p) => p.error === undefined);
  }
}
