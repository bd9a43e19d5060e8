import { Api } from './api';
import { isAuthenticatedPage, pageCode, pageToken } from './brand';
import { Connection, type ConnectionState } from './connection';
import { Outbox } from './outbox';
import type { Message, MessengerConfig, ServerFrame, Session } from './protocol';
import { DeviceStorage } from './storage';
import { type Pending, Timeline } from './timeline';
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

interface StoredLogin {
  token: string;
  expiresAt: string;
}

type LoginResult = { state?: string; code?: string; id_token?: string; assertion?: string; error?: string; error_description?: string };

const ReturnKey = 'parley.return';
const ResultKey = 'parley.login.result';

/**
 * The messenger: finds out who the visitor is (the page's functions, the device's stored visitor
 * tokens), keeps one conversation per page in sync over the WebSocket, and drives the view.
 * Messages the visitor writes are stored on the device until acknowledged and resent after a
 * reconnect with the same clientMessageId, so nothing is lost or sent twice.
 */
export class Messenger implements ViewActions {
  private readonly api: Api;
  private readonly storage: DeviceStorage;
  private readonly outbox: Outbox;
  private config!: MessengerConfig;
  private view!: View;
  private connection!: Connection;
  private token = '';
  private authenticated = false;
  private pageAuthenticated = false;
  private conversationId: string | null = null;
  private status: 'open' | 'closed' | null = null;
  private timeline = new Timeline();
  private readUpTo = 0;
  private subscribed = false;
  private wantConversation = false;
  /** Messages written before the conversation exists (the first one starts it). */
  private early: Pending[] = [];
  private notice: string | null = null;
  private blocked = false;
  private pendingLogin: LoginResult | null = null;
  private readonly usedStates = new Set<string>();
  private renewing = false;
  private unauthorizedInARow = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private audio: AudioContext | null = null;
  private retryInMs: number | undefined;
  /** The deployment opens the messenger in a separate window: this page only has the launcher. */
  private separate = false;
  unread = 0;
  connectionState: ConnectionState = 'connecting';

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

    if (pageMode) {
      this.wantConversation = true;
      this.pendingLogin = this.takeRedirectResult();
    } else {
      window.addEventListener('message', (event) => this.onLoginMessage(event));
    }
    document.addEventListener('visibilitychange', () => this.markRead());
    const ws = new URL(`/ws/consumer?deploymentId=${encodeURIComponent(this.config.deploymentId)}`, this.options.base);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    this.connection = new Connection(ws.toString(), () => this.token, {
      ready: () => this.onReady(),
      frame: (frame) => this.onFrame(frame),
      state: (state, retryInMs) => this.onConnectionState(state, retryInMs),
      unauthorized: () => void this.onUnauthorized(),
    });
    this.pageAuthenticated = !pageMode && this.config.authentication !== null
      && await isAuthenticatedPage(this.options.identities(), this.config.authentication.jsClientFunction);
    await this.startSession();
    this.connection.start();
    if (this.storage.get<boolean>('open') || this.pendingLogin) {
      this.setOpen(true, false);
    }
    this.refresh();
  }

  // ---- the visitor's session ----

  /**
   * Chooses the session this page shows: on a logged-in page the authenticated one (the device's
   * stored login, else a fresh token or code from the page); otherwise the device's anonymous one.
   * An authenticated conversation is never shown on a page that is not logged in.
   */
  private async startSession(): Promise<void> {
    const stored = this.validLogin();
    const anonymous = this.storage.get<string>('anon');
    let session: Session | null = null;
    this.notice = null;
    this.blocked = false;
    if (this.config.authentication && (this.pageAuthenticated || this.options.pageMode)) {
      if (stored) {
        session = await this.api.session({ visitorToken: stored.token }).catch(() => null);
        if (session && !session.authenticated) {
          session = null;
        }
      }
      if (!session && this.pageAuthenticated) {
        session = await this.logIn(anonymous);
      }
    }
    if (session === null && stored && !this.options.pageMode) {
      const waiting = await this.api.session({ visitorToken: stored.token }).catch(() => null);
      if (waiting?.authenticated && waiting.showConversationId) {
        this.notice = 'You have a conversation in progress as a logged-in customer. Continue it on a page where you are logged in.';
      }
    }
    if (session === null) {
      session = await this.api.session({ visitorToken: anonymous });
      this.storage.set('anon', session.visitorToken);
    }
    this.useSession(session, anonymous);
  }

  private useSession(session: Session, anonymous: string | null): void {
    this.authenticated = session.authenticated;
    this.token = session.visitorToken;
    if (session.authenticated) {
      this.storage.set('auth', { token: session.visitorToken, expiresAt: session.expiresAt } satisfies StoredLogin);
    }
    const show = session.showConversationId ?? null;
    if (show && session.authenticated && anonymous && !session.conversations.some((c) => c.id === show)) {
      // Logged in without an open authenticated conversation: the device's anonymous one stays anonymous.
      this.token = anonymous;
      this.authenticated = false;
    }
    if (show !== this.conversationId) {
      this.switchTo(show);
    }
    this.status = show ? 'open' : this.status;
  }

  /** A login before the chat with the page's function: a JWT (implicit) or an authorization code. */
  private async logIn(anonymous: string | null): Promise<Session | null> {
    const auth = this.config.authentication!;
    try {
      if (auth.flow === 'implicit') {
        const jwt = await pageToken(auth.jsClientFunction);
        return jwt ? await this.api.session({ visitorToken: anonymous, jwt }) : null;
      }
      const redirectUri = location.origin + location.pathname;
      const login = await this.api.startLogin(redirectUri);
      const code = await pageCode(auth.jsClientFunction, { ...login, redirectUri });
      return code ? await this.api.session({ visitorToken: anonymous, code: code.code, state: login.state, redirectUri: code.redirectUri }) : null;
    } catch (error) {
      this.notice = `You could not be logged in to the chat: ${(error as Error).message}`;
      return null;
    }
  }

  private validLogin(): StoredLogin | null {
    const stored = this.storage.get<StoredLogin>('auth');
    return stored && Date.parse(stored.expiresAt) > Date.now() ? stored : null;
  }

  /** The device session ended (the login expired): renew it from the page, or say where to continue. */
  private async onExpired(): Promise<void> {
    if (this.renewing) {
      return;
    }
    this.renewing = true;
    try {
      this.storage.set('auth', null);
      const session = this.pageAuthenticated ? await this.logIn(this.storage.get<string>('anon')) : null;
      if (session?.authenticated) {
        this.useSession(session, null);
        this.notice = null;
        this.blocked = false;
        this.connection.restart();
      } else {
        this.blocked = true;
        this.notice = this.pageAuthenticated
          ? 'Your login has expired. Log in again on the website to continue this conversation.'
          : 'Your login has expired. Continue this conversation on a page where you are logged in.';
      }
    } finally {
      this.renewing = false;
      this.refresh();
    }
  }

  /** The server refused the visitor token (expired, or the device was unlinked): start again. */
  private async onUnauthorized(): Promise<void> {
    if (++this.unauthorizedInARow > 3) {
      this.notice = 'The chat is not available right now. Please reload the page later.';
      this.refresh();
      return;
    }
    if (this.token === this.storage.get<StoredLogin>('auth')?.token) {
      this.storage.set('auth', null);
    } else if (this.token === this.storage.get<string>('anon')) {
      this.storage.set('anon', null);
    }
    try {
      await this.startSession();
      this.connection.start();
    } catch {
      this.notice = 'The chat is not available right now. Please reload the page later.';
    }
    this.refresh();
  }

  // ---- the conversation ----

  private switchTo(conversationId: string | null): void {
    this.conversationId = conversationId;
    this.timeline = new Timeline();
    this.readUpTo = 0;
    this.subscribed = false;
    this.status = conversationId ? 'open' : null;
    this.view?.clearLog();
    if (conversationId) {
      for (const pending of this.early.splice(0)) {
        this.outbox.add(conversationId, pending);
      }
      for (const pending of this.outbox.list(conversationId)) {
        this.timeline.send(pending);
      }
    }
  }

  private onReady(): void {
    this.unauthorizedInARow = 0;
    this.subscribed = false;
    if (this.conversationId) {
      this.connection.send({ type: 'conversation.subscribe', conversationId: this.conversationId, since: this.timeline.lastSeq });
    } else if (this.wantConversation) {
      this.startConversation();
    }
  }

  private startConversation(): void {
    const attributes = { page: location.pathname, ...this.options.attributes() };
    this.connection.send({ type: 'conversation.start', requestId: 'start', attributes });
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'conversation': {
        const conversation = frame.conversation!;
        if (frame.requestId === 'start' || conversation.id !== this.conversationId) {
          if (conversation.id !== this.conversationId) {
            this.switchTo(conversation.id);
          }
          this.connection.send({ type: 'conversation.subscribe', conversationId: conversation.id, since: this.timeline.lastSeq });
        }
        this.status = conversation.status;
        break;
      }
      case 'subscribed':
        if (frame.conversationId === this.conversationId) {
          this.subscribed = true;
          this.flush();
          this.sendPendingLogin();
          this.markRead();
        }
        break;
      case 'message':
        this.onMessage(frame.message as Message);
        break;
      case 'message.ack':
        if (frame.conversationId === this.conversationId && frame.clientMessageId) {
          this.timeline.acknowledge(frame.clientMessageId);
          this.outbox.remove(frame.conversationId, frame.clientMessageId);
        }
        break;
      case 'receipt':
        if (frame.receipt && frame.receipt.role === 'agent') {
          this.readUpTo = Math.max(this.readUpTo, frame.receipt.readSeq);
        }
        break;
      case 'typing':
        if (frame.conversationId === this.conversationId && frame.role !== 'consumer') {
          this.view.setTyping(frame.isTyping ? (frame.role === 'agent' ? 'The agent is typing…' : 'Typing…') : null);
        }
        return;
      case 'session':
        // A mid-chat login completed: this device now acts for the logged-in visitor.
        this.authenticated = true;
        this.token = frame.visitorToken!;
        this.storage.set('auth', { token: frame.visitorToken!, expiresAt: frame.expiresAt! } satisfies StoredLogin);
        this.notice = null;
        break;
      case 'auth.expired':
        void this.onExpired();
        return;
      case 'history.cleared':
        void this.onHistoryCleared();
        return;
      case 'error':
        this.onError(frame);
        break;
      default:
        return;
    }
    this.refresh();
  }

  private onMessage(message: Message): void {
    if (message.conversationId !== this.conversationId || !this.timeline.add(message)) {
      return;
    }
    if (message.clientMessageId && message.senderRole === 'consumer') {
      this.outbox.remove(message.conversationId, message.clientMessageId);
    }
    if (message.kind === 'event' && message.text === 'conversation.closed') {
      this.status = 'closed';
    } else if (message.kind === 'event' && message.text === 'conversation.resumed') {
      this.status = 'open';
    }
    if (this.subscribed && message.senderRole !== 'consumer') {
      this.view.setTyping(null);
      if (!this.inView() && message.kind === 'text') {
        this.chime();
      }
    }
    this.options.emit('message', message);
  }

  private onError(frame: ServerFrame): void {
    switch (frame.code) {
      case 'authentication_expired':
        void this.onExpired();
        return;
      case 'storage_unavailable':
      case 'rate_limited':
        // Nothing was stored: resend the same messages a little later.
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.flush(), 2000);
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
          this.timeline.acknowledge(frame.clientMessageId);
          this.outbox.remove(this.conversationId, frame.clientMessageId);
        }
        this.notice = typeof frame.message === 'string' ? frame.message : 'The message could not be sent.';
        return;
      case 'invalid_grant':
      case 'invalid_token':
      case 'temporarily_unavailable':
        this.notice = `The login did not complete: ${typeof frame.message === 'string' ? frame.message : frame.code}`;
        return;
      default:
        if (typeof frame.message === 'string') {
          this.notice = frame.message;
        }
    }
  }

  private async onHistoryCleared(): Promise<void> {
    // This device's visitor token no longer works: forget it, and start as a new visitor.
    if (this.conversationId) {
      this.outbox.clear(this.conversationId);
      this.storage.set(`seen.${this.conversationId}`, null);
    }
    this.storage.set(this.authenticated ? 'auth' : 'anon', null);
    this.connection.stop();
    this.switchTo(null);
    this.wantConversation = false;
    await this.startSession();
    this.notice = 'The conversation was cleared from this device.';
    this.connection.start();
    this.refresh();
  }

  /** Sends every message not yet acknowledged, oldest first. */
  private flush(): void {
    if (!this.conversationId || !this.subscribed || this.status === 'closed') {
      return;
    }
    for (const pending of this.timeline.unsent()) {
      this.connection.send({ type: 'message.send', conversationId: this.conversationId, clientMessageId: pending.clientMessageId, text: pending.text });
    }
  }

  // ---- mid-chat login ----

  login(url: string): void {
    if (this.options.pageMode) {
      // A separate window has no page to come back to: it goes to the brand and returns here.
      sessionStorage.setItem(ReturnKey, location.href);
      location.assign(url);
      return;
    }
    const popup = window.open(url, 'parley-login', 'popup,width=480,height=680');
    if (!popup) {
      this.notice = 'Your browser blocked the login window. Allow pop-ups for this site and press "Log in" again.';
      this.refresh();
    }
  }

  private onLoginMessage(event: MessageEvent): void {
    const data = event.data as (LoginResult & { type?: string }) | null;
    if (event.origin !== new URL(this.options.base).origin || !data || data.type !== 'parley.login') {
      return;
    }
    // A login state works once: a second copy of the same result would only earn an invalid_grant.
    if (data.state && this.usedStates.has(data.state)) {
      return;
    }
    this.pendingLogin = data;
    this.sendPendingLogin();
  }

  private takeRedirectResult(): LoginResult | null {
    try {
      const raw = sessionStorage.getItem(ResultKey);
      sessionStorage.removeItem(ResultKey);
      return raw ? (JSON.parse(raw) as LoginResult) : null;
    } catch {
      return null;
    }
  }

  private sendPendingLogin(): void {
    const result = this.pendingLogin;
    if (!result || !this.conversationId || !this.subscribed) {
      return;
    }
    this.pendingLogin = null;
    if (result.state) {
      this.usedStates.add(result.state);
    }
    if (result.error) {
      this.notice = `The login did not complete: ${result.error_description ?? result.error}`;
      this.refresh();
      return;
    }
    this.connection.send({
      type: 'conversation.authenticate', requestId: 'login', conversationId: this.conversationId,
      state: result.state, code: result.code, jwt: result.id_token, assertion: result.assertion,
    });
  }

  // ---- what the visitor does (ViewActions) ----

  open(): void {
    if (this.separate) {
      this.openWindow();
    } else if (this.connection) {
      this.setOpen(true, true);
    }
  }

  minimize(): void {
    if (this.connection) {
      this.setOpen(false, true);
    }
  }

  private openWindow(): void {
    window.open(this.config.windowUrl, `parley-${this.config.deploymentId}`, 'popup,width=420,height=680');
  }

  private setOpen(open: boolean, moveFocus: boolean): void {
    this.view.setOpen(open, moveFocus);
    this.storage.set('open', open || null);
    if (open && !this.conversationId && !this.blocked) {
      this.wantConversation = true;
      if (this.connection.ready) {
        this.startConversation();
      }
    }
    this.markRead();
    this.refresh();
  }

  send(text: string): void {
    const pending = { clientMessageId: newId(), text };
    this.timeline.send(pending);
    if (this.conversationId) {
      this.outbox.add(this.conversationId, pending);
      this.flush();
    } else {
      this.early.push(pending);
      this.wantConversation = true;
      if (this.connection.ready) {
        this.startConversation();
      }
    }
    this.refresh();
  }

  typing(isTyping: boolean): void {
    if (this.conversationId && this.status === 'open') {
      this.connection.send({ type: 'typing', conversationId: this.conversationId, isTyping });
    }
  }

  endConversation(): void {
    if (this.conversationId) {
      this.connection.send({ type: 'conversation.close', conversationId: this.conversationId });
    }
  }

  clearHistory(): void {
    if (this.conversationId) {
      this.connection.send({ type: 'history.clear', conversationId: this.conversationId });
    }
  }

  resume(): void {
    if (this.conversationId) {
      this.connection.send({ type: 'conversation.resume', conversationId: this.conversationId });
    }
  }

  startNew(): void {
    this.switchTo(null);
    this.wantConversation = true;
    this.startConversation();
    this.refresh();
  }

  dismissNotice(): void {
    this.notice = null;
    this.refresh();
  }

  // ---- read state, unread badge, sound ----

  private inView(): boolean {
    return (this.options.pageMode || this.view.isOpen) && document.visibilityState === 'visible';
  }

  /** When the conversation is in view: everything up to the last message is read; tell the agent. */
  private markRead(): void {
    if (!this.conversationId || !this.inView() || this.timeline.lastSeq === 0) {
      return;
    }
    const seen = this.storage.get<number>(`seen.${this.conversationId}`) ?? 0;
    if (seen < this.timeline.lastSeq) {
      this.storage.set(`seen.${this.conversationId}`, this.timeline.lastSeq);
    }
    this.connection.send({ type: 'receipt', conversationId: this.conversationId, deliveredSeq: this.timeline.lastSeq, readSeq: this.timeline.lastSeq });
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

  private onConnectionState(state: ConnectionState, retryInMs?: number): void {
    this.connectionState = state;
    this.retryInMs = retryInMs;
    this.options.emit('connection', state);
    this.refresh();
  }

  private connectionText(): string {
    switch (this.connectionState) {
      case 'connected': return this.authenticated ? 'Connected · logged in' : 'Connected';
      case 'connecting': return 'Connecting…';
      default: return `Reconnecting${this.retryInMs ? ` in ${Math.ceil(this.retryInMs / 1000)} s` : ''}…`;
    }
  }

  /** The conversation on this page, if there is one yet. */
  get currentConversationId(): string | null {
    return this.conversationId;
  }

  /** Whether this page's session is a logged-in visitor's. */
  get isAuthenticated(): boolean {
    return this.authenticated;
  }

  private refresh(): void {
    if (!this.view) {
      return;
    }
    const seen = this.conversationId ? this.storage.get<number>(`seen.${this.conversationId}`) ?? 0 : 0;
    const inView = this.inView();
    if (inView && this.conversationId && this.timeline.lastSeq > seen) {
      this.markRead(); // records the new seen seq, then refreshes
      return;
    }
    const unread = inView ? 0 : this.timeline.fromOthersAfter(seen);
    if (unread !== this.unread) {
      this.unread = unread;
      this.options.emit('unread', unread);
    }
    this.view.setUnread(unread);
    this.view.setConnection(this.connectionText());
    this.view.setNotice(this.notice);
    this.view.setConversationState(this.blocked ? 'blocked' : this.status === 'closed' ? 'closed' : this.conversationId ? 'open' : 'none');
    const messages = this.timeline.messages();
    const lastRequest = messages.filter((m) => m.text === 'authentication.requested').pop();
    const loginDone = this.authenticated && (!lastRequest || messages.some((m) => m.text === 'authentication.upgraded' && m.seq > lastRequest.seq));
    this.view.render(messages, this.timeline.unsent(), this.readUpTo, loginDone);
  }
}

function newId(): string {
  if (typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
