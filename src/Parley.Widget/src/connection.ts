import { Backoff } from '../../Parley.Client/src/backoff';
import type { ServerFrame } from './protocol';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

export interface ConnectionEvents {
  /** The socket is authenticated: subscribe and resend from here. */
  ready(): void;
  frame(frame: ServerFrame): void;
  state(state: ConnectionState, retryInMs?: number): void;
  /** The server refused the visitor token (close 1008 before `ready`): start a new session. */
  unauthorized(): void;
}

/** Parley's consumer WebSocket, reconnecting with backoff until stopped. */
export class Connection {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private isReady = false;

  constructor(
    private readonly url: string,
    private readonly token: () => string,
    private readonly events: ConnectionEvents,
    private readonly backoff = new Backoff(),
  ) {
    window.addEventListener('online', () => {
      if (!this.stopped && !this.socket) {
        this.open();
      }
    });
  }

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
    socket?.close(1000);
  }

  /** Drops the socket and connects again at once (e.g. with a new visitor token). */
  restart(): void {
    this.stop();
    this.start();
  }

  /** Sends a frame when connected; false when it must wait for the next connection. */
  send(frame: Record<string, unknown>): boolean {
    if (!this.isReady || !this.socket || this.socket.readyState !== WebSocket.OPEN) {
      return false;
    }
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private open(): void {
    clearTimeout(this.timer);
    this.events.state(this.backoffStarted ? 'reconnecting' : 'connecting');
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', token: this.token() }));
    socket.onmessage = (event) => {
      if (this.socket !== socket || typeof event.data !== 'string') {
        return;
      }
      let frame: ServerFrame;
      try {
        frame = JSON.parse(event.data) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === 'ready') {
        this.isReady = true;
        this.backoffStarted = false;
        this.backoff.reset();
        this.events.state('connected');
        this.events.ready();
        return;
      }
      this.events.frame(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) {
        return;
      }
      const wasReady = this.isReady;
      this.socket = null;
      this.isReady = false;
      if (this.stopped) {
        return;
      }
      // Only a refused token means "start a new session"; a limit (too many connections) is retried.
      if (event.code === 1008 && !wasReady && event.reason === 'unauthorized') {
        this.stopped = true;
        this.events.unauthorized();
        return;
      }
      this.backoffStarted = true;
      const delay = this.backoff.next();
      this.events.state('reconnecting', delay);
      this.timer = setTimeout(() => this.open(), delay);
    };
  }

  private backoffStarted = false;
}
