import { Backoff } from './backoff';
import type { ClientFrame, ErrorFrame, ReadyFrame, Replies, ServerFrame } from './frames';

/** The part of the browser's WebSocket a connection uses (tests and other runtimes pass their own). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** `unauthorized`: the server refused the credentials (close 1008 `unauthorized`); the connection stopped. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'unauthorized';

export interface ConnectionOptions {
  /** `wss://HOST/ws/consumer?deploymentId=…` or `wss://HOST/ws/agent`. */
  url: string;
  /** The token sent in the `auth` frame (a visitor token); leave out when the upgrade is authenticated (cookie, header). */
  token?: () => string | null;
  createSocket?: (url: string) => SocketLike;
  backoff?: Backoff;
  /** Request ids (default `crypto.randomUUID`). */
  newId?: () => string;
}

export interface ConnectionEvents {
  /** Authenticated: subscribe and resend from here (after every reconnect too). */
  ready: (frame: ReadyFrame) => void;
  /** Every frame after `ready`, replies included. */
  frame: (frame: ServerFrame) => void;
  state: (state: ConnectionState, retryInMs?: number) => void;
}

/** A refusal from the server (an `error` frame answering a request), or `offline`. */
export class ProtocolError extends Error {
  constructor(readonly code: string, message: string, readonly frame?: ErrorFrame) {
    super(message);
  }
}

type Listeners = { [K in keyof ConnectionEvents]: Set<ConnectionEvents[K]> };
type Reply<T extends ClientFrame['type']> = T extends keyof Replies ? Replies[T] : never;

const Open = 1;
const PolicyViolation = 1008;

/**
 * One of Parley's WebSockets, kept open until stopped: reconnects with backoff (and at once when
 * the device comes back online), authenticates, matches replies to requests by `requestId`, and
 * tells its listeners what arrives. Resuming conversations and resending messages is
 * `ConversationSync`'s part, on top of this.
 */
export class Connection {
  private socket: SocketLike | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private isReady = false;
  private failed = false;
  private current: ConnectionState = 'stopped';
  private readonly listeners: Listeners = { ready: new Set(), frame: new Set(), state: new Set() };
  private readonly requests = new Map<string, { resolve: (frame: ServerFrame) => void; reject: (error: ProtocolError) => void }>();
  private readonly createSocket: (url: string) => SocketLike;
  private readonly backoff: Backoff;
  private readonly newId: () => string;

  constructor(private readonly options: ConnectionOptions) {
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.backoff = options.backoff ?? new Backoff();
    this.newId = options.newId ?? (() => crypto.randomUUID());
    globalThis.addEventListener?.('online', () => {
      if (!this.stopped && !this.socket) {
        this.open();
      }
    });
  }

  /** Adds a listener; returns its removal. */
  on<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEvents[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Authenticated and open: frames sent now arrive. */
  get ready(): boolean {
    return this.isReady;
  }

  start(): void {
    this.stopped = false;
    if (!this.socket) {
      this.open();
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.isReady = false;
    const socket = this.socket;
    this.socket = null;
    this.failRequests();
    socket?.close(1000);
    this.setState('stopped');
  }

  /** Drops the socket and connects again at once (e.g. with a new token). */
  restart(): void {
    this.stop();
    this.start();
  }

  /** Sends a frame when ready; false when it was not sent (the caller keeps what must be resent). */
  send(frame: ClientFrame): boolean {
    if (!this.isReady || !this.socket || this.socket.readyState !== Open) {
      return false;
    }
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends a frame with a new `requestId` and resolves with the server's reply to it, or rejects
   * with its `error` (a `ProtocolError` with the code), or with `offline` when not connected or
   * when the connection drops first (the frame may or may not have been acted on).
   */
  request<F extends ClientFrame & { type: keyof Replies }>(frame: F): Promise<Reply<F['type']>> {
    if (!this.isReady) {
      return Promise.reject(new ProtocolError('offline', 'Not connected; try again in a moment.'));
    }
    const requestId = this.newId();
    return new Promise<Reply<F['type']>>((resolve, reject) => {
      this.requests.set(requestId, { resolve: resolve as (frame: ServerFrame) => void, reject });
      this.send({ ...frame, requestId });
    });
  }

  private open(): void {
    clearTimeout(this.timer);
    this.setState(this.failed ? 'reconnecting' : 'connecting');
    const socket = this.createSocket(this.options.url);
    this.socket = socket;
    socket.onopen = () => {
      const token = this.options.token?.();
      if (token) {
        socket.send(JSON.stringify({ type: 'auth', token } satisfies ClientFrame));
      }
    };
    socket.onmessage = (event) => {
      if (this.socket === socket && typeof event.data === 'string') {
        this.receive(event.data);
      }
    };
    socket.onerror = () => { /* onclose follows */ };
    socket.onclose = (event) => {
      if (this.socket !== socket) {
        return;
      }
      this.socket = null;
      this.isReady = false;
      this.failRequests();
      if (this.stopped) {
        return;
      }
      // Only reason `unauthorized` means the credentials are bad; a limit (too many connections) is retried.
      if (event.code === PolicyViolation && event.reason === 'unauthorized') {
        this.stopped = true;
        this.setState('unauthorized');
        return;
      }
      this.failed = true;
      const delay = this.backoff.next();
      this.setState('reconnecting', delay);
      this.timer = setTimeout(() => this.open(), delay);
    };
  }

  private receive(data: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === 'ready') {
      this.isReady = true;
      this.failed = false;
      this.backoff.reset();
      this.setState('connected');
      this.listeners.ready.forEach((listener) => listener(frame));
      return;
    }
    this.listeners.frame.forEach((listener) => listener(frame));
    const request = frame.requestId === undefined ? undefined : this.requests.get(frame.requestId);
    if (request) {
      this.requests.delete(frame.requestId!);
      if (frame.type === 'error') {
        request.reject(new ProtocolError(frame.code, frame.message, frame));
      } else {
        request.resolve(frame);
      }
    }
  }

  private setState(state: ConnectionState, retryInMs?: number): void {
    this.current = state;
    this.listeners.state.forEach((listener) => listener(state, retryInMs));
  }

  private failRequests(): void {
    for (const request of this.requests.values()) {
      request.reject(new ProtocolError('offline', 'The connection dropped; try again.'));
    }
    this.requests.clear();
  }
}
