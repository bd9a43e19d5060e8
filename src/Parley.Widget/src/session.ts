import type { Api } from './api';
import { pageCode, pageToken, whoOf, type PageLogin } from './brand';
import type { Connection } from '../../Parley.Client/src/connection';
import type { Authenticated, MessengerConfig, Notice, Session } from './protocol';
import type { DeviceStorage } from './storage';

interface StoredLogin {
  token: string;
  expiresAt: string;
  /** Whose login it is: the consumer, and `iss sub` when the widget saw them. */
  consumerId?: string;
  who?: string | null;
}

interface Renewal {
  token: string;
  conversationId: string;
  state: string | null;
}

export type LoginResult = { state?: string; code?: string; id_token?: string; assertion?: string; error?: string; error_description?: string };

const ReturnKey = 'parley.return';
const ResultKey = 'parley.login.result';
/** A renewal the separate window left for itself before redirecting to the brand's login. */
const RenewKey = 'parley.renew';
const Unavailable = 'The chat is not available right now. Please reload the page later.';

/** What `Parley.on('authentication', handler)` reports to the brand's page. */
export type AuthenticationEvent =
  | { type: 'signed-in'; how: 'page' | 'mid-chat' }
  | { type: 'sign-in-failed'; error: string; description: string }
  | { type: 'expired' }
  | { type: 'logged-out' };

export interface SessionHost {
  /** The session chose the conversation this page shows (null: none yet). */
  show(conversationId: string | null): void;
  refresh(): void;
  authentication(event: AuthenticationEvent): void;
}

/**
 * Who the visitor is on this page: the device's stored visitor tokens (anonymous and logged in),
 * a login before the chat with the page's function, a login during the chat (popup or, in a
 * separate window, a redirect), and what happens when the server ends the session.
 */
export class VisitorSession {
  token = '';
  authenticated = false;
  /** What the page says about its visitor (checked once at boot). */
  page: PageLogin = { state: 'public' };
  /** `Parley.logout()` was called: this page does not log the visitor in again. */
  private loggedOut = false;
  private pendingLogin: LoginResult | null = null;
  private readonly usedStates = new Set<string>();
  private renewing = false;
  private unauthorizedInARow = 0;
  /** The token of a login that ended and is not renewed yet: the status line says so, and the notice's Log in button renews it. */
  private endedToken: string | null = null;
  /** A renewal in progress: its result goes to the REST API with the ended token. */
  /** A renewal in progress: the ended token, the conversation, and the state of the login link it follows. */
  private renewal: Renewal | null = null;
  private linkRequested = false;
  private failedRenewal: string | null = null;
  get shownLogin(): 'none' | 'in' | 'ended' {
    return !this.authenticated ? 'none' : this.endedToken !== null ? 'ended' : 'in';
  }
  private renewalResult: LoginResult | null = null;

  constructor(
    private readonly api: Pick<Api, 'session' | 'startLogin' | 'logout' | 'loginLink' | 'authenticate'>,
    private readonly storage: DeviceStorage,
    private readonly config: MessengerConfig,
    private readonly pageMode: boolean,
    private readonly notice: Notice,
    private readonly connection: Connection,
    private readonly host: SessionHost,
  ) {}

  /**
   * Chooses the session this page shows: on a logged-in page the authenticated one (the device's
   * stored login, else a fresh token or code from the page); otherwise the device's anonymous one.
   * An authenticated conversation is never shown on a page that is not logged in.
   */
  async start(): Promise<void> {
    let stored = this.validLogin();
    const anonymous = this.storage.get<string>('anon');
    let session: Session | null = null;
    // What a renewal that failed before the start said stays said (the separate window, back from the brand).
    this.notice.text = this.failedRenewal;
    this.failedRenewal = null;
    this.notice.blocked = false;
    this.notice.action = null;
    if (stored && !this.pageMode && this.page.state === 'out') {
      // The page says nobody is logged in: the stored login is over, before anything of it shows.
      await this.endStoredLogin(stored);
      stored = null;
    }
    let who: string | null = null;
    if (this.config.authentication && (this.pageAuthenticated || this.pageMode)) {
      let jwt: string | undefined;
      if (stored && this.pageAuthenticated && this.config.authentication.flow === 'implicit') {
        jwt = (await pageToken(this.config.authentication.jsClientFunction)) ?? undefined;
      }
      const pageWho = (jwt ? whoOf(jwt) : null) ?? (this.page.state === 'in' ? this.page.who : null);
      // Is the stored login this page's visitor's? Known when both sides name `iss sub`; otherwise
      // (a login made mid-chat, an encrypted page token) the page's own proof tells, by the consumer.
      const unknown = stored && (pageWho === null || !stored.who) && (jwt !== undefined || pageWho !== null);
      if (stored && (unknown || (pageWho && stored.who && pageWho !== stored.who))) {
        session = await this.logIn(anonymous, jwt);
        who = this.lastWho ?? pageWho;
        if (session?.authenticated && session.consumerId === stored.consumerId) {
          // The same customer: the fresh login replaces the stored one quietly (no logout, no event).
          this.storage.set('auth', null);
        } else {
          // Someone else is logged in on this browser now (a shared device): the stored login is
          // ended at Parley before anything of it shows.
          await this.endStoredLogin(stored);
        }
        stored = null;
      }
      if (!session && stored) {
        session = await this.api.session({ visitorToken: stored.token }).catch(() => null);
        if (session && !session.authenticated) {
          session = null;
        }
      }
      if (!session && this.pageAuthenticated) {
        session = await this.logIn(anonymous, jwt);
        who = this.lastWho;
      }
    }
    if (session === null && stored && !this.pageMode) {
      const waiting = await this.api.session({ visitorToken: stored.token }).catch(() => null);
      if (waiting?.authenticated && waiting.showConversationId) {
        this.notice.text = 'You have a conversation in progress as a logged-in customer. Continue it on a page where you are logged in.';
      }
    }
    if (session === null) {
      session = await this.api.session({ visitorToken: anonymous });
      this.storage.set('anon', session.visitorToken);
    }
    this.use(session, anonymous, who);
    if (this.signedInNow && session.authenticated) {
      this.host.authentication({ type: 'signed-in', how: 'page' });
    }
    this.signedInNow = false;
  }

  /** The last start() logged the visitor in with the page's proof (not a stored login). */
  private signedInNow = false;

  private use(session: Session, anonymous: string | null, who?: string | null): void {
    this.endedToken = null;
    this.authenticated = session.authenticated;
    this.token = session.visitorToken;
    if (session.authenticated) {
      const same = this.validLogin();
      this.storage.set('auth', {
        token: session.visitorToken,
        expiresAt: session.expiresAt,
        consumerId: session.consumerId,
        who: who ?? (same?.consumerId === session.consumerId ? same.who : null) ?? null,
      } satisfies StoredLogin);
    }
    const show = session.showConversationId ?? null;
    if (show && session.authenticated && anonymous && !session.conversations.some((c) => c.id === show)) {
      // Logged in without an open authenticated conversation: the device's anonymous one stays anonymous.
      this.token = anonymous;
      this.authenticated = false;
    }
    this.host.show(show);
  }

  /** A login before the chat with the page's function: a JWT (implicit) or an authorization code. */
  private async logIn(anonymous: string | null, given?: string): Promise<Session | null> {
    const auth = this.config.authentication!;
    if (this.loggedOut) {
      return null;
    }
    try {
      if (auth.flow === 'implicit') {
        const jwt = given ?? await pageToken(auth.jsClientFunction);
        this.lastWho = jwt ? whoOf(jwt) : null;
        const session = jwt ? await this.api.session({ visitorToken: anonymous, jwt }) : null;
        this.signedInNow = session?.authenticated === true;
        return session;
      }
      this.lastWho = this.page.state === 'in' ? this.page.who : null;
      const redirectUri = location.origin + location.pathname;
      const login = await this.api.startLogin(redirectUri);
      const code = await pageCode(auth.jsClientFunction, { ...login, redirectUri });
      const session = code ? await this.api.session({ visitorToken: anonymous, code: code.code, state: login.state, redirectUri: code.redirectUri }) : null;
      this.signedInNow = session?.authenticated === true;
      return session;
    } catch (error) {
      this.notice.text = `You could not be logged in to the chat: ${(error as Error).message}`;
      this.failed((error as { code?: string }).code ?? 'server_error', (error as Error).message);
      return null;
    }
  }

  /** `iss sub` of the last pre-chat login's token, when the widget could read it. */
  private lastWho: string | null = null;

  /** The page's visitor is logged in (its identity function says so, or it has the login function). */
  get pageAuthenticated(): boolean {
    return this.page.state === 'in';
  }

  /** Ends a stored login of this device at Parley (its sockets close) and forgets it. */
  private async endStoredLogin(stored: StoredLogin): Promise<void> {
    this.storage.set('auth', null);
    await this.api.logout(stored.token).catch(() => undefined);
  }

  /**
   * `Parley.logout()`: the visitor logged out on the brand's site. The device's login ends at
   * Parley (this device only) and nothing of the authenticated conversation stays on the page.
   */
  async logout(): Promise<void> {
    this.loggedOut = true;
    this.host.authentication({ type: 'logged-out' });
    const stored = this.storage.get<StoredLogin>('auth');
    if (stored) {
      await this.endStoredLogin(stored);
    }
    if (this.authenticated) {
      this.authenticated = false;
      await this.start();
      this.connection.restart();
    }
    this.host.refresh();
  }

  private validLogin(): StoredLogin | null {
    const stored = this.storage.get<StoredLogin>('auth');
    return stored && Date.parse(stored.expiresAt) > Date.now() ? stored : null;
  }

  /** The socket is authenticated: the token works. */
  ready(): void {
    this.unauthorizedInARow = 0;
  }

  /** A login was refused (before or during the chat): the brand's page hears why. */
  failed(error: string, description: string): void {
    this.host.authentication({ type: 'sign-in-failed', error, description });
  }

  /** A mid-chat login completed: this device now acts for the logged-in visitor. */
  adopt(frame: Pick<Authenticated, 'visitorToken' | 'expiresAt' | 'consumerId'>): void {
    this.host.authentication({ type: 'signed-in', how: 'mid-chat' });
    this.authenticated = true;
    this.endedToken = null;
    this.token = frame.visitorToken;
    // Who logged in is not known here (the login happened at the brand): the next logged-in page finds out.
    this.storage.set('auth', { token: frame.visitorToken, expiresAt: frame.expiresAt, consumerId: frame.consumerId, who: null } satisfies StoredLogin);
    this.notice.text = null;
    this.notice.action = null;
  }

  /** The device session ended (the login expired): renew it from the page, or say where to continue. */
  async expired(): Promise<void> {
    if (this.renewing) {
      return;
    }
    if (this.loggedOut) {
      return; // the end of a login this page ended itself
    }
    this.host.authentication({ type: 'expired' });
    this.renewing = true;
    try {
      // Another tab may have stored a newer login already: forget only this one.
      if (this.storage.get<StoredLogin>('auth')?.token === this.token) {
        this.storage.set('auth', null);
      }
      const session = this.pageAuthenticated ? await this.logIn(this.storage.get<string>('anon')) : null;
      this.signedInNow = false;
      if (session?.authenticated) {
        this.host.authentication({ type: 'signed-in', how: 'page' });
        this.use(session, null, this.lastWho);
        this.notice.text = null;
        this.notice.blocked = false;
        this.notice.action = null;
        this.connection.restart();
      } else {
        this.notice.blocked = true;
        this.endedToken = this.token;
        if (this.config.authentication?.loginLinks) {
          // The messenger logs the visitor in again itself: a fresh login link for this conversation.
          this.notice.action = 'log-in';
          this.notice.text = 'Your login has expired. Log in again to continue this conversation.';
        } else {
          this.notice.text = 'Your login has expired. Continue this conversation on a page where you are logged in.';
        }
      }
    } finally {
      this.renewing = false;
      this.host.refresh();
    }
  }

  /** The server refused the visitor token (expired, or the device was unlinked): start again. */
  async unauthorized(): Promise<void> {
    if (++this.unauthorizedInARow > 3) {
      this.notice.text = Unavailable;
      this.host.refresh();
      return;
    }
    if (this.token === this.storage.get<StoredLogin>('auth')?.token) {
      this.storage.set('auth', null);
    } else if (this.token === this.storage.get<string>('anon')) {
      this.storage.set('anon', null);
    }
    try {
      await this.start();
      this.connection.start();
    } catch {
      this.notice.text = Unavailable;
    }
    this.host.refresh();
  }

  /** This device's visitor token no longer works (history cleared): forget it. */
  forget(): void {
    this.storage.set(this.authenticated ? 'auth' : 'anon', null);
  }

  // ---- mid-chat login ----

  login(url: string): void {
    if (this.pageMode) {
      // A separate window has no page to come back to: it goes to the brand and returns here.
      sessionStorage.setItem(ReturnKey, location.href);
      location.assign(url);
      return;
    }
    const popup = window.open(url, 'parley-login', 'popup,width=480,height=680');
    if (!popup) {
      this.notice.text = 'Your browser blocked the login window. Allow pop-ups for this site and press "Log in" again.';
      this.host.refresh();
    }
  }

  /**
   * The notice's Log in button after a login ended: a fresh login link for the same conversation,
   * in a popup (embedded) or by redirect (separate window). Its result renews the device's login
   * through the REST API with the ended token, and the chat goes on where it was.
   */
  async renew(conversationId: string | null): Promise<void> {
    const token = this.endedToken ?? this.token;
    if (!conversationId || !token || this.linkRequested) {
      return; // a second click while the first link is on its way would spend another login state
    }
    // Opened now, while the click still counts as the visitor's: after the request it would be blocked.
    const popup = this.pageMode ? null : window.open('', 'parley-login', 'popup,width=480,height=680');
    if (!this.pageMode && !popup) {
      this.notice.text = 'Your browser blocked the login window. Allow pop-ups for this site and press "Log in" again.';
      this.host.refresh();
      return;
    }
    this.linkRequested = true;
    try {
      const link = await this.api.loginLink(token, conversationId);
      this.renewal = { token, conversationId, state: new URL(link.url).searchParams.get('state') };
      if (this.pageMode) {
        sessionStorage.setItem(RenewKey, JSON.stringify(this.renewal));
        sessionStorage.setItem(ReturnKey, location.href);
        location.assign(link.url);
      } else {
        popup!.location.assign(link.url);
      }
    } catch (error) {
      popup?.close();
      this.notice.text = `A new login could not be started: ${(error as Error).message}`;
      this.host.refresh();
    } finally {
      this.linkRequested = false;
    }
  }

  /** Completes a renewal with what the login returned; the connection starts again with the new session. */
  private async completeRenewal(result: LoginResult, reconnect: boolean): Promise<void> {
    const renewal = this.renewal;
    this.renewal = null;
    if (!renewal) {
      return;
    }
    if (this.refusedAtTheBrand(result)) {
      return;
    }
    try {
      const done = await this.api.authenticate(renewal.token, renewal.conversationId,
        { state: result.state, code: result.code, jwt: result.id_token, assertion: result.assertion });
      this.adopt(done);
      this.notice.blocked = false;
      this.host.show(done.conversation.id);
      if (reconnect) {
        this.connection.restart();
      }
    } catch (error) {
      this.notice.text = `The login did not complete: ${(error as Error).message}`;
      this.failed((error as { code?: string }).code ?? 'server_error', (error as Error).message);
    }
    this.host.refresh();
  }

  /** Marks a login result's state as used; true, with the visitor and the page told, when the brand refused the login. */
  private refusedAtTheBrand(result: LoginResult): boolean {
    if (result.state) {
      this.usedStates.add(result.state);
    }
    if (!result.error) {
      return false;
    }
    this.notice.text = `The login did not complete: ${result.error_description ?? result.error}`;
    this.failed(result.error, result.error_description ?? result.error);
    this.host.refresh();
    return true;
  }

  /** A result the login popup posted (from Parley's origin); sent once the conversation is subscribed. */
  received(data: (LoginResult & { type?: string }) | null, origin: string, parley: string, send: () => void): void {
    if (origin !== parley || !data || data.type !== 'parley.login') {
      return;
    }
    // A login state works once: a second copy of the same result would only earn an invalid_grant.
    if (data.state && this.usedStates.has(data.state)) {
      return;
    }
    if (this.renewal && data.state === this.renewal.state) {
      void this.completeRenewal(data, true);
      return;
    }
    this.pendingLogin = data;
    send();
  }

  /** The result a redirect login left for this window (a renewal's is completed by `finishRenewal`). */
  takeRedirectResult(): void {
    try {
      const raw = sessionStorage.getItem(ResultKey);
      sessionStorage.removeItem(ResultKey);
      const renewal = sessionStorage.getItem(RenewKey);
      sessionStorage.removeItem(RenewKey);
      const result = raw ? (JSON.parse(raw) as LoginResult) : null;
      if (result && renewal) {
        this.renewal = JSON.parse(renewal) as Renewal;
        this.renewalResult = result;
      } else {
        this.pendingLogin = result;
      }
    } catch {
      this.pendingLogin = null;
    }
  }

  /** Before the session starts: completes the renewal the separate window went to the brand for. */
  async finishRenewal(): Promise<void> {
    const result = this.renewalResult;
    this.renewalResult = null;
    if (result) {
      await this.completeRenewal(result, false);
      this.failedRenewal = this.authenticated ? null : this.notice.text;
    }
  }

  get hasPendingLogin(): boolean {
    return this.pendingLogin !== null;
  }

  /** Sends the pending login result for the conversation, once it is subscribed. */
  sendPendingLogin(conversationId: string | null, subscribed: boolean): void {
    const result = this.pendingLogin;
    if (!result || !conversationId || !subscribed) {
      return;
    }
    this.pendingLogin = null;
    if (this.refusedAtTheBrand(result)) {
      return;
    }
    this.connection.send({
      type: 'conversation.authenticate', requestId: 'login', conversationId,
      state: result.state, code: result.code, jwt: result.id_token, assertion: result.assertion,
    });
  }
}
