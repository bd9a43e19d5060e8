import type { Connection } from '../../Parley.Client/src/connection';
import type { ErrorFrame, Message, ServerFrame, SessionFrame } from '../../Parley.Client/src/frames';
import { ConversationSync } from '../../Parley.Client/src/sync';
import { type Pending, Timeline } from '../../Parley.Client/src/timeline';
import type { Outbox } from './outbox';
import type { Notice } from './protocol';

export interface SyncHost {
  /** A message that was not shown before; `live` once replay is done. */
  message(message: Message, live: boolean): void;
  /** The conversation is subscribed: send a pending login, mark read. */
  subscribed(): void;
  typing(text: string | null): void;
  /** The page shows another conversation (or none): the old one's messages go. */
  switched(): void;
  session(frame: SessionFrame): void;
  expired(): void;
  /** A mid-chat login was refused by Parley. */
  loginFailed(error: string, description: string): void;
  historyCleared(): void;
  refresh(): void;
}

/**
 * The page's one conversation, kept in sync over the consumer socket with the shared client's
 * ConversationSync (resume from the last gapless seq, resend with the same clientMessageId): which
 * conversation it is, whether it is open, what the agent has read, and what the server refused.
 * Messages written before the conversation exists start it and are sent once it does.
 */
export class VisitorSync {
  conversationId: string | null = null;
  status: 'open' | 'closed' | null = null;
  /** The seq up to which the agent has read. */
  readUpTo = 0;
  /** Start a conversation as soon as the socket is ready (the visitor opened the chat or wrote). */
  wantConversation = false;
  private readonly sync: ConversationSync;
  /** Messages written before the conversation exists (the first one starts it). */
  private early = new Timeline();

  constructor(
    private readonly connection: Connection,
    private readonly outbox: Outbox,
    private readonly notice: Notice,
    private readonly attributes: () => Record<string, string>,
    private readonly newId: () => string,
    private readonly host: SyncHost,
  ) {
    this.sync = new ConversationSync(connection, {
      message: (message) => this.onMessage(message),
      subscribed: (id) => {
        if (id === this.conversationId) {
          host.subscribed();
        }
      },
    }, { store: outbox, newId });
    connection.on('ready', () => {
      if (!this.conversationId && this.wantConversation) {
        this.startConversation();
      }
    });
    connection.on('frame', (frame) => this.onFrame(frame));
  }

  /** The conversation's timeline (messages written before it exists, while there is none). */
  get timeline(): Timeline {
    return (this.conversationId && this.sync.timelines.get(this.conversationId)) || this.early;
  }

  get subscribed(): boolean {
    return this.conversationId !== null && this.sync.isSubscribed(this.conversationId);
  }

  switchTo(conversationId: string | null): void {
    if (this.conversationId) {
      this.sync.unwatch(this.conversationId);
    }
    this.conversationId = conversationId;
    this.readUpTo = 0;
    this.status = conversationId ? 'open' : null;
    this.host.switched();
    if (conversationId) {
      for (const pending of this.early.pending) {
        this.outbox.add(conversationId, pending);
      }
      this.early = new Timeline();
      this.sync.watch(conversationId);
    }
  }

  startConversation(): void {
    this.connection.send({ type: 'conversation.start', requestId: 'start', attributes: this.attributes() });
  }

  /** The visitor wants a conversation (opened the chat): start one now or once connected. */
  want(): void {
    this.wantConversation = true;
    if (this.connection.ready) {
      this.startConversation();
    }
  }

  send(text: string): void {
    if (this.conversationId) {
      this.sync.send(this.conversationId, text, this.newId());
    } else {
      this.early.queue({ clientMessageId: this.newId(), text });
      this.want();
    }
  }

  /** Messages shown as sending: written and not in the conversation yet. */
  get pending(): readonly Pending[] {
    return this.timeline.pending;
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'conversation': {
        const { conversation } = frame;
        if (conversation.id !== this.conversationId) {
          this.switchTo(conversation.id);
        }
        this.status = conversation.status;
        break;
      }
      case 'receipt':
        if (frame.receipt.role === 'agent') {
          this.readUpTo = Math.max(this.readUpTo, frame.receipt.readSeq);
        }
        break;
      case 'typing':
        if (frame.conversationId === this.conversationId && frame.role !== 'consumer') {
          this.host.typing(frame.isTyping ? (frame.role === 'agent' ? 'The agent is typing…' : 'Typing…') : null);
        }
        return;
      case 'session':
        this.host.session(frame);
        if (frame.conversation.id !== this.conversationId) {
          // The login merged this conversation into the customer's open one: the chat continues there.
          this.switchTo(frame.conversation.id);
        }
        this.status = frame.conversation.status;
        break;
      case 'auth.expired':
        this.host.expired();
        return;
      case 'history.cleared':
        this.host.historyCleared();
        return;
      case 'error':
        this.onError(frame);
        break;
      default:
        break;
    }
    this.host.refresh();
  }

  private onMessage(message: Message): void {
    if (message.kind === 'event' && message.text === 'conversation.closed') {
      this.status = 'closed';
    } else if (message.kind === 'event' && message.text === 'conversation.resumed') {
      this.status = 'open';
      // What the server refused while it was closed can go now.
      this.sync.retry(message.conversationId);
    }
    this.host.message(message, this.subscribed);
  }

  private onError(frame: ErrorFrame): void {
    switch (frame.code) {
      case 'authentication_expired':
        this.host.expired();
        return;
      case 'conversation_closed':
        this.status = 'closed';
        return;
      case 'not_found':
        if (frame.conversationId === this.conversationId && !frame.clientMessageId) {
          // The conversation is not this session's any more (e.g. cleared on another device).
          this.switchTo(null);
        }
        return;
      case 'message_too_long':
      case 'invalid_request':
        if (frame.clientMessageId && this.conversationId) {
          this.sync.discard(this.conversationId, frame.clientMessageId);
        }
        this.notice.text = frame.message || 'The message could not be sent.';
        return;
      case 'invalid_grant':
      case 'invalid_token':
      case 'temporarily_unavailable':
        this.notice.text = `The login did not complete: ${frame.message || frame.code}`;
        this.host.loginFailed(frame.code, frame.message || frame.code);
        return;
      case 'storage_unavailable':
      case 'rate_limited':
        return; // ConversationSync resends the same messages a little later.
      default:
        if (frame.message) {
          this.notice.text = frame.message;
        }
    }
  }
}
