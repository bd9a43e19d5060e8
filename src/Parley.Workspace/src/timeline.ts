import type { Conversation, Message } from './model';

/** The time of the consumer's last text message, or null. */
export function lastConsumerMessageAt(messages: readonly Message[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.kind === 'text' && m.senderRole === 'consumer') {
      return m.sentAt;
    }
  }
  return null;
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
