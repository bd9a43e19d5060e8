import { Backoff } from '../../Parley.Client/src/backoff';
import { Connection } from '../../Parley.Client/src/connection';
import { Api } from './api';
import { pageLogin } from './brand';
import { Outbox } from './outbox';
import { connectionText, conversationState, fromOthersAfter, loginDone, type ShownConnection } from './presentation';
import type { Message, MessengerConfig, Notice } from './protocol';
import { VisitorSession } from './session';
import { DeviceStorage } from './storage';
import { VisitorSync } from './sync';
import { View, type ViewActions } from './view';

export interface MessengerOptions {
  base: string;
  deploymentId: string;
  /** True on Parley's own page for the separate-window mode. */
  pageMode: boolean;
  /** The brand's identity functions (`Parley.identities`). */
  identities: () => unknown[];
  /** Unverified page data for agents (`Parley.attributes`). */
  attributes: () => Record<string, string>;
  emit(event: string, detail: unknown): void;
}

/**
 * The messenger: wires the visitor's session (session.ts), the conversation's sync (sync.ts, on
 * the shared client) and the view (view.ts, presentation.ts), and keeps what is read, the unread
 * badge and the sound. Messages the visitor writes are stored on the device until acknowledged
 * and resent after a reconnect with the same clientMessageId, so nothing is lost or sent twice.
 */
export class Messenger implements ViewActions {
  private readonly api: Api;
  private readonly storage: DeviceStorage;
  private readonly outbox: Outbox;
  private readonly notice: Notice = { text: null, blocked: false };
  private config!: MessengerConfig;
  private view!: View;
  private connection!: Connection;
  private session!: VisitorSession;
  private sync!: VisitorSync;
  private audio: AudioContext | null = null;
  private retryInMs: number | undefined;
  /** The deployment opens the messenger in a separate window: this page only has the launcher. */
  private separate = false;
  unread = 0;
  connectionState: ShownConnection = 'connecting';

  constructor(private readonly options: MessengerOptions) {
    this.api = new Api(options.base, options.deploymentId);
    this.storage = new DeviceStorage(`parley.${options.deploymentId}.`);
    this.outbox = new Outbox(this.storage);
  }

  async boot(): Promise<void> {
    this.config = await this.api.config();
    const { pageMode } = this.options;
    this.separate = this.config.windowMode === 'window' && !pageMode;
    this.view = new View(this.config.title, pageMode, this);
    document.body.append(this.view.host);
    if (this.separate) {
      this.view.setConnection('');
      return;
    }

    const ws = new URL(`/ws/consumer?deploymentId=${encodeURIComponent(this.config.deploymentId)}`, this.options.base);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    this.connection = new Connection({ url: ws.toString(), token: () => this.session.token, newId, backoff: new Backoff() });
    this.session = new VisitorSession(this.api, this.storage, this.config, pageMode, this.notice, this.connection, {
      show: (id) => {
        if (id !== this.sync.conversationId) {
          this.sync.switchTo(id);
        }
        this.sync.status = id ? 'open' : this.sync.status;
      },
      refresh: () => this.refresh(),
      authentication: (event) => this.options.emit('authentication', event),
    });
    this.sync = new VisitorSync(this.connection, this.outbox, this.notice, () => ({ page: location.pathname, ...this.options.attributes() }), newId, {
      message: (message, live) => this.onMessage(message, live),
      subscribed: () => {
        this.session.sendPendingLogin(this.sync.conversationId, true);
        this.markRead();
      },
      typing: (text) => this.view.setTyping(text),
      switched: () => this.view.clearLog(),
      session: (frame) => this.session.adopt(frame),
      expired: () => void this.session.expired(),
      loginFailed: (error, description) => this.session.failed(error, description),
      historyCleared: () => void this.onHistoryCleared(),
      refresh: () => this.refresh(),
    });
    this.connection.on('ready', () => this.session.ready());
    this.connection.on('state', (state, retryInMs) => {
      if (state === 'unauthorized') {
        void this.session.unauthorized();
      } else if (state !== 'stopped') {
        this.onConnectionState(state, retryInMs);
      }
    });

    if (pageMode) {
      this.sync.wantConversation = true;
      this.session.takeRedirectResult();
    } else {
      window.addEventListener('message', (event) => this.session.received(event.data, event.origin, new URL(this.options.base).origin,
        () => this.session.sendPendingLogin(this.sync.conversationId, this.sync.subscribed)));
    }
    document.addEventListener('visibilitychange', () => this.markRead());
    this.session.page = pageMode || this.config.authentication === null
      ? { state: 'public' }
      : await pageLogin(this.options.identities(), this.config.authentication.jsClientFunction);
    if (this.config.authenticatedOnly && !pageMode && this.session.page.state !== 'in') {
      // Logged-in visitors only: on a page where nobody is logged in, the messenger does not show.
      this.view.host.remove();
      return;
    }
    await this.session.finishRenewal();
    await this.session.start();
    this.connection.start();
    if (this.storage.get<boolean>('open') || this.session.hasPendingLogin) {
      this.setOpen(true, false);
    }
    this.refresh();
  }

  private onMessage(message: Message, live: boolean): void {
    if (live && message.senderRole !== 'consumer') {
      this.view.setTyping(null);
      if (!this.inView() && message.kind === 'text') {
        this.chime();
      }
    }
    this.options.emit('message', message);
  }

  private async onHistoryCleared(): Promise<void> {
    // This device's visitor token no longer works: forget it, and start as a new visitor.
    const cleared = this.sync.conversationId;
    if (cleared) {
      this.outbox.clear(cleared);
      this.storage.set(`seen.${cleared}`, null);
    }
    this.session.forget();
    this.connection.stop();
    this.sync.switchTo(null);
    this.sync.wantConversation = false;
    await this.session.start();
    this.notice.text = 'The conversation was cleared from this device.';
    this.connection.start();
    this.refresh();
  }

  // ---- what the visitor does (ViewActions) ----

  open(): void {
    if (this.separate) {
      window.open(this.config.windowUrl, `parley-${this.config.deploymentId}`, 'popup,width=420,height=680');
    } else if (this.connection) {
      this.setOpen(true, true);
    }
  }

  minimize(): void {
    if (this.connection) {
      this.setOpen(false, true);
    }
  }

  private setOpen(open: boolean, moveFocus: boolean): void {
    this.view.setOpen(open, moveFocus);
    this.storage.set('open', open || null);
    if (open && !this.sync.conversationId && !this.notice.blocked) {
      this.sync.want();
    }
    this.markRead();
    this.refresh();
  }

  send(text: string): void {
    this.sync.send(text);
    this.refresh();
  }

  typing(isTyping: boolean): void {
    const { conversationId, status } = this.sync;
    if (conversationId && status === 'open') {
      this.connection.send({ type: 'typing', conversationId, isTyping });
    }
  }

  /** `Parley.logout()`: the brand's visitor logged out; this device's login at Parley ends too. */
  logout(): Promise<void> {
    return this.session.logout();
  }

  endConversation(): void {
    this.conversationFrame('conversation.close');
  }

  clearHistory(): void {
    this.conversationFrame('history.clear');
  }

  resume(): void {
    this.conversationFrame('conversation.resume');
  }

  private conversationFrame(type: 'conversation.close' | 'history.clear' | 'conversation.resume'): void {
    if (this.sync.conversationId) {
      this.connection.send({ type, conversationId: this.sync.conversationId });
    }
  }

  startNew(): void {
    this.sync.switchTo(null);
    this.sync.wantConversation = true;
    this.sync.startConversation();
    this.refresh();
  }

  login(url: string): void {
    this.session.login(url);
  }

  /** The notice's Log in button: a login that ended is renewed for this conversation. */
  renewLogin(): void {
    void this.session.renew(this.sync.conversationId);
  }

  dismissNotice(): void {
    this.notice.text = null;
    this.refresh();
  }

  // ---- read state, unread badge, sound ----

  private inView(): boolean {
    return (this.options.pageMode || this.view.isOpen) && document.visibilityState === 'visible';
  }

  /** When the conversation is in view: everything up to the last message is read; tell the agent. */
  private markRead(): void {
    const conversationId = this.sync?.conversationId;
    const lastSeq = this.sync?.timeline.lastSeq ?? 0;
    if (!conversationId || !this.inView() || lastSeq === 0) {
      return;
    }
    const seen = this.storage.get<number>(`seen.${conversationId}`) ?? 0;
    if (seen < lastSeq) {
      this.storage.set(`seen.${conversationId}`, lastSeq);
    }
    this.connection.send({ type: 'receipt', conversationId, deliveredSeq: lastSeq, readSeq: lastSeq });
    this.refresh();
  }

  private chime(): void {
    try {
      this.audio ??= new AudioContext();
      const oscillator = this.audio.createOscillator();
      const gain = this.audio.createGain();
      oscillator.frequency.value = 880;
      gain.gain.value = 0.05;
      oscillator.connect(gain).connect(this.audio.destination);
      oscillator.start();
      oscillator.stop(this.audio.currentTime + 0.12);
      this.options.emit('sound', null);
    } catch {
      // No audio on this device.
    }
  }

  private onConnectionState(state: ShownConnection, retryInMs?: number): void {
    this.connectionState = state;
    this.retryInMs = retryInMs;
    this.options.emit('connection', state);
    this.refresh();
  }

  /** The conversation on this page, if there is one yet. */
  get currentConversationId(): string | null {
    return this.sync?.conversationId ?? null;
  }

  /** Whether this page's session is a logged-in visitor's. */
  get isAuthenticated(): boolean {
    return this.session?.authenticated ?? false;
  }

  private refresh(): void {
    if (!this.view || !this.sync) {
      return;
    }
    const { conversationId, timeline } = this.sync;
    const seen = conversationId ? this.storage.get<number>(`seen.${conversationId}`) ?? 0 : 0;
    const inView = this.inView();
    if (inView && conversationId && timeline.lastSeq > seen) {
      this.markRead(); // records the new seen seq, then refreshes
      return;
    }
    const messages = timeline.messages;
    const unread = inView ? 0 : fromOthersAfter(messages, seen);
    if (unread !== this.unread) {
      this.unread = unread;
      this.options.emit('unread', unread);
    }
    this.view.setUnread(unread);
    this.view.setConnection(connectionText(this.connectionState, this.session.shownLogin, this.retryInMs));
    this.view.setNotice(this.notice.text, this.notice.action ?? null);
    this.view.setConversationState(conversationState(this.notice.blocked, this.sync.status, conversationId));
    this.view.render(messages, this.sync.pending, this.sync.readUpTo, loginDone(messages, this.session.authenticated));
  }
}

function newId(): string {
  if (typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
