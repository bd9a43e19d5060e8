import {
  Connection, ConversationSync, type AgentConversation, type ConversationUpdatedFrame, type Message, type Receipt,
  type SocketLike, type Timeline,
} from '../../Parley.Client/src';
import { Backoff } from '../../Parley.Client/src/backoff';

export type { SocketLike };

export interface LiveOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  newId?: () => string;
  random?: () => number;
}

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'signed-out';

export interface LiveEvents {
  /** A message arrived that was not in the timeline before (replay or live). */
  message?: (message: Message) => void;
  /** A conversation of the tenant was created or changed. */
  conversation?: (conversation: AgentConversation) => void;
  /** The socket is (again) ready: what happened while it was down is not in any frame, so reload lists. */
  ready?: () => void;
  /** Anything changed: re-render. */
  change?: () => void;
}

/**
 * The agent's WebSocket (`/ws/agent`, authenticated by the web app's cookie) on Parley's shared
 * client (src/Parley.Client): it reconnects with backoff, resubscribes every watched conversation
 * from its last gapless seq and resends every unacknowledged message with its clientMessageId.
 * This adds what the workspace shows: the customer typing, read marks sent once per seq.
 */
export class AgentLive {
  state: LiveState = 'connecting';
  /** conversationId → when the consumer was last seen typing (ms), or absent. */
  readonly typing = new Map<string, number>();
  private readonly connection: Connection;
  private readonly sync: ConversationSync;
  /** conversationId → the read mark this agent last sent (the server keeps it; sending it again changes nothing). */
  private readonly readSent = new Map<string, number>();

  constructor(options: LiveOptions, private readonly events: LiveEvents = {}) {
    this.connection = new Connection({
      url: options.url,
      createSocket: options.createSocket,
      newId: options.newId,
      backoff: new Backoff(undefined, undefined, options.random),
    });
    this.sync = new ConversationSync(this.connection, {
      message: (message) => {
        if (message.senderRole === 'consumer') {
          this.typing.delete(message.conversationId);
        }
        this.events.message?.(message);
      },
      typing: (frame) => {
        if (frame.role === 'consumer') {
          if (frame.isTyping) {
            this.typing.set(frame.conversationId, Date.now());
          } else {
            this.typing.delete(frame.conversationId);
          }
        }
      },
    }, { newId: options.newId });
    this.connection.on('ready', () => this.events.ready?.());
    this.connection.on('state', (state) => {
      const shown = ({ connecting: 'connecting', connected: 'open', reconnecting: 'reconnecting', unauthorized: 'signed-out' } as const)[state as 'connecting'];
      if (shown) {
        this.state = shown;
        this.changed();
      }
    });
    this.connection.on('frame', (frame) => {
      if (frame.type === 'conversation.updated' && !frame.requestId) {
        this.events.conversation?.(frame.conversation);
      }
      this.changed();
    });
  }

  get timelines(): ReadonlyMap<string, Timeline> {
    return this.sync.timelines;
  }

  get receipts(): ReadonlyMap<string, Receipt[]> {
    return this.sync.receipts;
  }

  start(): void {
    this.connection.start();
  }

  stop(): void {
    this.connection.stop();
  }

  /** Watches a conversation: its history from the start, then live messages. */
  watch(conversationId: string): Timeline {
    return this.sync.watch(conversationId);
  }

  /** Writes a message; it shows at once as "sending" and is kept until the server stores it. */
  send(conversationId: string, text: string): string {
    return this.sync.send(conversationId, text);
  }

  /** Gives up on a message the server refused. */
  discard(conversationId: string, clientMessageId: string): void {
    this.sync.discard(conversationId, clientMessageId);
  }

  /** Tells the others the agent has read up to seq: once per seq, however often the view renders. */
  read(conversationId: string, seq: number): void {
    if ((this.readSent.get(conversationId) ?? 0) < seq
        && this.connection.send({ type: 'receipt', conversationId, deliveredSeq: seq, readSeq: seq })) {
      this.readSent.set(conversationId, seq);
    }
  }

  setTyping(conversationId: string, isTyping: boolean): void {
    this.connection.send({ type: 'typing', conversationId, isTyping });
  }

  accept(conversationId: string): Promise<ConversationUpdatedFrame> {
    return this.connection.request({ type: 'conversation.accept', conversationId });
  }

  close(conversationId: string): Promise<ConversationUpdatedFrame> {
    return this.connection.request({ type: 'conversation.close', conversationId }) as Promise<ConversationUpdatedFrame>;
  }

  resume(conversationId: string): Promise<ConversationUpdatedFrame> {
    return this.connection.request({ type: 'conversation.resume', conversationId }) as Promise<ConversationUpdatedFrame>;
  }

  private changed(): void {
    this.events.change?.();
  }
}
