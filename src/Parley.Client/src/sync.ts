import type { Connection } from './connection';
import type { ErrorFrame, Message, Receipt, ServerFrame, TypingFrame } from './frames';
import { type Pending, Timeline } from './timeline';

/** Where unacknowledged messages are kept across reloads (e.g. localStorage); the default keeps nothing. */
export interface OutboxStore {
  load(conversationId: string): Pending[];
  save(conversationId: string, items: readonly Pending[]): void;
}

export interface SyncOptions {
  store?: OutboxStore;
  /** clientMessageIds (default `crypto.randomUUID`). */
  newId?: () => string;
  /** How long to wait before resending after a `retryable` error (nothing was stored). */
  retryMs?: number;
}

export interface SyncEvents {
  /** A message that was not in its timeline before (replay or live). */
  message?: (message: Message) => void;
  /** Replay is complete; live messages follow. */
  subscribed?: (conversationId: string) => void;
  receipt?: (receipt: Receipt) => void;
  typing?: (frame: TypingFrame) => void;
  /** The server refused a message for good (not `retryable`): it stays pending with `error` set. */
  refused?: (conversationId: string, clientMessageId: string, frame: ErrorFrame) => void;
  /** Anything in a timeline changed: re-render. */
  change?: () => void;
}

/**
 * The conversations a client watches, kept in sync over a `Connection`: each is subscribed after
 * every (re)connect from its timeline's last gapless seq, so every message arrives exactly once
 * in order; messages written are queued with a clientMessageId and (re)sent after each
 * `subscribed` until acknowledged — the server stores a resent message once.
 */
export class ConversationSync {
  readonly timelines = new Map<string, Timeline>();
  /** conversationId → the latest receipt of each participant. */
  readonly receipts = new Map<string, Receipt[]>();
  private readonly live = new Set<string>();
  private readonly newId: () => string;
  private readonly retryMs: number;

  constructor(private readonly connection: Connection, private readonly events: SyncEvents = {}, private readonly options: SyncOptions = {}) {
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.retryMs = options.retryMs ?? 2000;
    connection.on('ready', () => {
      this.live.clear();
      for (const conversationId of this.timelines.keys()) {
        this.subscribe(conversationId);
      }
    });
    connection.on('state', (state) => {
      if (state !== 'connected') {
        this.live.clear();
      }
    });
    connection.on('frame', (frame) => this.receive(frame));
  }

  /** Watches a conversation: its messages after the last gapless seq held (from the start at first), then live ones. */
  watch(conversationId: string): Timeline {
    let timeline = this.timelines.get(conversationId);
    if (!timeline) {
      timeline = new Timeline();
      this.timelines.set(conversationId, timeline);
      for (const item of this.options.store?.load(conversationId) ?? []) {
        timeline.queue({ clientMessageId: item.clientMessageId, text: item.text });
      }
      this.subscribe(conversationId);
    }
    return timeline;
  }

  /** Stops following a conversation here (its frames are ignored; unsent messages are dropped). */
  unwatch(conversationId: string): void {
    this.timelines.delete(conversationId);
    this.receipts.delete(conversationId);
    this.live.delete(conversationId);
  }

  /** Whether replay is complete and live messages arrive. */
  isSubscribed(conversationId: string): boolean {
    return this.live.has(conversationId);
  }

  /** Writes a message: pending at once, kept until acknowledged, sent as soon as the conversation is subscribed. */
  send(conversationId: string, text: string, clientMessageId = this.newId()): string {
    const timeline = this.watch(conversationId);
    timeline.queue({ clientMessageId, text });
    this.save(conversationId);
    this.flush(conversationId);
    this.changed();
    return clientMessageId;
  }

  /** Sends again what the server refused in this conversation (e.g. after it was resumed). */
  retry(conversationId: string): void {
    this.timelines.get(conversationId)?.retry();
    this.flush(conversationId);
  }

  /** Gives up on a message. */
  discard(conversationId: string, clientMessageId: string): void {
    this.timelines.get(conversationId)?.discard(clientMessageId);
    this.save(conversationId);
    this.changed();
  }

  private subscribe(conversationId: string): void {
    const timeline = this.timelines.get(conversationId)!;
    this.connection.send({ type: 'conversation.subscribe', conversationId, since: timeline.resumeFrom });
  }

  /** Sends every message not acknowledged, oldest first, once the conversation is subscribed. */
  private flush(conversationId: string, only?: string): void {
    const timeline = this.timelines.get(conversationId);
    if (!timeline || !this.live.has(conversationId)) {
      return;
    }
    for (const item of timeline.unsent) {
      if (only === undefined || item.clientMessageId === only) {
        this.connection.send({ type: 'message.send', conversationId, clientMessageId: item.clientMessageId, text: item.text });
      }
    }
  }

  private receive(frame: ServerFrame): void {
    switch (frame.type) {
      case 'subscribed':
        if (this.timelines.has(frame.conversationId)) {
          this.live.add(frame.conversationId);
          this.flush(frame.conversationId);
          this.events.subscribed?.(frame.conversationId);
        }
        break;
      case 'message': {
        const { message } = frame;
        if (this.timelines.get(message.conversationId)?.add(message)) {
          if (message.clientMessageId) {
            this.save(message.conversationId);
          }
          this.events.message?.(message);
        }
        break;
      }
      case 'message.ack':
        if (this.timelines.has(frame.conversationId)) {
          this.timelines.get(frame.conversationId)!.acknowledged(frame.clientMessageId);
          this.save(frame.conversationId);
        }
        break;
      case 'receipt': {
        const { receipt } = frame;
        const others = (this.receipts.get(receipt.conversationId) ?? []).filter((r) => r.participantId !== receipt.participantId);
        this.receipts.set(receipt.conversationId, [...others, receipt]);
        this.events.receipt?.(receipt);
        break;
      }
      case 'typing':
        this.events.typing?.(frame);
        break;
      case 'error':
        this.onError(frame);
        break;
      default:
        return;
    }
    this.changed();
  }

  private onError(frame: ErrorFrame): void {
    const { conversationId, clientMessageId } = frame;
    if (frame.retryable && (!conversationId || this.timelines.has(conversationId))) {
      // Nothing was stored (or the frames are read more slowly): send the same message(s) again a little later.
      const conversations = conversationId ? [conversationId] : [...this.timelines.keys()];
      setTimeout(() => conversations.forEach((id) => this.flush(id, clientMessageId)), this.retryMs);
      return;
    }
    if (!conversationId || !this.timelines.has(conversationId)) {
      return;
    }
    if (clientMessageId && frame.code !== 'authentication_expired') {
      // An expired login is renewed by the client and the message resent on the next subscription.
      this.timelines.get(conversationId)!.refused(clientMessageId, frame.message);
      this.events.refused?.(conversationId, clientMessageId, frame);
    }
  }

  private save(conversationId: string): void {
    const timeline = this.timelines.get(conversationId);
    if (timeline && this.options.store) {
      this.options.store.save(conversationId, timeline.unacknowledged);
    }
  }

  private changed(): void {
    this.events.change?.();
  }
}
