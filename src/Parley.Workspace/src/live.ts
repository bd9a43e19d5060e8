import type { Conversation, Message, Receipt } from './model';
import { Timeline } from './timeline';

/** The part of the browser's WebSocket the connection uses (tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface LiveOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  newId?: () => string;
  random?: () => number;
}

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'signed-out';

export interface LiveEvents {
  /** A message arrived that was not in the timeline before (replay or live). */
  message?: (message: Message) => void;
  /** A conversation of the tenant was created or changed. */
  conversation?: (conversation: Conversation) => void;
  /** The socket is (again) ready: what happened while it was down is not in any frame, so reload lists. */
  ready?: () => void;
  /** Anything changed: re-render. */
  change?: () => void;
}

interface Request {
  resolve: (frame: Frame) => void;
  reject: (error: LiveError) => void;
}

export type Frame = Record<string, any> & { type: string };

export class LiveError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const OPEN = 1;

/**
 * The agent's WebSocket (`/ws/agent`, authenticated by the web app's cookie): keeps it open,
 * reconnects with backoff, and after each reconnect resubscribes every watched conversation from
 * the last seq it holds and resends every unacknowledged message with its original
 * clientMessageId — the server stores a resent message once, so nothing is lost or duplicated.
 */
export class AgentLive {
  state: LiveState = 'connecting';
  readonly timelines = new Map<string, Timeline>();
  readonly receipts = new Map<string, Receipt[]>();
  /** conversationId → when the consumer was last seen typing (ms), or absent. */
  readonly typing = new Map<string, number>();
  private socket: SocketLike | null = null;
  private attempt = 0;
  private timer: unknown = null;
  private stopped = false;
  private readonly requests = new Map<string, Request>();
  /** conversationId → the read mark this agent last sent (the server keeps it; sending it again changes nothing). */
  private readonly readSent = new Map<string, number>();
  private readonly createSocket: (url: string) => SocketLike;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly newId: () => string;
  private readonly random: () => number;

  constructor(private readonly options: LiveOptions, private readonly events: LiveEvents = {}) {
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as number));
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.random = options.random ?? Math.random;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer(this.timer);
    this.socket?.close(1000, 'signed out');
    this.socket = null;
  }

  /** Watches a conversation: its history from the start, then live messages. */
  watch(conversationId: string): Timeline {
    let timeline = this.timelines.get(conversationId);
    if (!timeline) {
      timeline = new Timeline();
      this.timelines.set(conversationId, timeline);
      this.subscribe(conversationId, timeline);
    }
    return timeline;
  }

  /** Writes a message; it shows at once as "sending" and is kept until the server stores it. */
  send(conversationId: string, text: string): string {
    const timeline = this.watch(conversationId);
    const clientMessageId = this.newId();
    timeline.queue({ clientMessageId, text });
    this.frame({ type: 'message.send', conversationId, clientMessageId, text });
    this.changed();
    return clientMessageId;
  }

  /** Gives up on a message the server refused. */
  discard(conversationId: string, clientMessageId: string): void {
    this.timelines.get(conversationId)?.discard(clientMessageId);
    this.changed();
  }

  /** Tells the others the agent has read up to seq: once per seq, however often the view renders. */
  read(conversationId: string, seq: number): void {
    if ((this.readSent.get(conversationId) ?? 0) < seq
        && this.frame({ type: 'receipt', conversationId, deliveredSeq: seq, readSeq: seq })) {
      this.readSent.set(conversationId, seq);
    }
  }

  setTyping(conversationId: string, isTyping: boolean): void {
    this.frame({ type: 'typing', conversationId, isTyping });
  }

  accept(conversationId: string): Promise<Frame> {
    return this.request({ type: 'conversation.accept', conversationId });
  }

  close(conversationId: string): Promise<Frame> {
    return this.request({ type: 'conversation.close', conversationId });
  }

  resume(conversationId: string): Promise<Frame> {
    return this.request({ type: 'conversation.resume', conversationId });
  }

  private request(frame: Frame): Promise<Frame> {
    if (this.state !== 'open') {
      return Promise.reject(new LiveError('offline', 'Not connected; try again in a moment.'));
    }
    const requestId = this.newId();
    return new Promise<Frame>((resolve, reject) => {
      this.requests.set(requestId, { resolve, reject });
      this.frame({ ...frame, requestId });
    });
  }

  private connect(): void {
    this.state = this.attempt === 0 ? 'connecting' : 'reconnecting';
    const socket = this.createSocket(this.options.url);
    this.socket = socket;
    socket.onopen = () => {
      // The cookie authenticated the upgrade; `ready` follows.
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') {
        this.receive(JSON.parse(event.data) as Frame);
      }
    };
    socket.onerror = () => { /* onclose follows */ };
    socket.onclose = (event) => {
      if (this.socket !== socket) {
        return;
      }
      this.socket = null;
      this.failRequests();
      if (this.stopped) {
        return;
      }
      if (event.code === 1008 && event.reason === 'unauthorized') {
        this.state = 'signed-out';
        this.changed();
        return;
      }
      this.state = 'reconnecting';
      this.changed();
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(this.attempt, 5)) * (0.5 + this.random() / 2);
      this.attempt++;
      this.timer = this.setTimer(() => this.connect(), delay);
    };
  }

  private receive(frame: Frame): void {
    const pending = frame.requestId ? this.requests.get(frame.requestId) : undefined;
    if (pending && (frame.type === 'error' || frame.type === 'conversation.updated')) {
      this.requests.delete(frame.requestId);
      if (frame.type === 'error') {
        pending.reject(new LiveError(frame.code, frame.message));
      } else {
        pending.resolve(frame);
      }
    }

    switch (frame.type) {
      case 'ready':
        this.state = 'open';
        this.attempt = 0;
        // Resume every watched conversation where it stopped, then resend what was not acknowledged.
        for (const [conversationId, timeline] of this.timelines) {
          this.subscribe(conversationId, timeline);
          for (const item of timeline.unacknowledged) {
            if (!item.error) {
              this.frame({ type: 'message.send', conversationId, clientMessageId: item.clientMessageId, text: item.text });
            }
          }
        }
        this.events.ready?.();
        break;
      case 'message': {
        const message = frame.message as Message;
        const timeline = this.timelines.get(message.conversationId);
        if (timeline?.add(message)) {
          if (message.senderRole === 'consumer') {
            this.typing.delete(message.conversationId);
          }
          this.events.message?.(message);
        }
        break;
      }
      case 'message.ack':
        this.timelines.get(frame.conversationId)?.acknowledged(frame.clientMessageId, frame.seq);
        break;
      case 'receipt': {
        const receipt = frame.receipt as Receipt;
        const list = (this.receipts.get(receipt.conversationId) ?? []).filter((r) => r.participantId !== receipt.participantId);
        this.receipts.set(receipt.conversationId, [...list, receipt]);
        break;
      }
      case 'typing':
        if (frame.role === 'consumer') {
          if (frame.isTyping) {
            this.typing.set(frame.conversationId, Date.now());
          } else {
            this.typing.delete(frame.conversationId);
          }
        }
        break;
      case 'conversation.updated':
        if (!frame.requestId) {
          this.events.conversation?.(frame.conversation as Conversation);
        }
        break;
      case 'error':
        if (frame.clientMessageId && frame.conversationId && !frame.retryable) {
          this.timelines.get(frame.conversationId)?.refused(frame.clientMessageId, frame.message);
        } else if (frame.clientMessageId && frame.retryable) {
          // Stored nothing (database busy): resend the same message a little later.
          const { conversationId, clientMessageId } = frame;
          this.setTimer(() => {
            const item = this.timelines.get(conversationId)?.unacknowledged.find((p) => p.clientMessageId === clientMessageId);
            if (item && !item.error) {
              this.frame({ type: 'message.send', conversationId, clientMessageId, text: item.text });
            }
          }, 2000);
        }
        break;
    }
    this.changed();
  }

  private subscribe(conversationId: string, timeline: Timeline): void {
    this.frame({ type: 'conversation.subscribe', conversationId, since: timeline.resumeFrom });
  }

  /** Sends a frame if the socket is ready; false when it is not (the caller's state says what is resent). */
  private frame(frame: Frame): boolean {
    if (this.state === 'open' && this.socket?.readyState === OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  private failRequests(): void {
    for (const request of this.requests.values()) {
      request.reject(new LiveError('offline', 'The connection dropped; try again.'));
    }
    this.requests.clear();
  }

  private changed(): void {
    this.events.change?.();
  }
}
