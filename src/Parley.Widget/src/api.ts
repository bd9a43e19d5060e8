import type { Authenticated, CodeLogin, LoginLink, MessengerConfig, Session } from './protocol';

/** A refusal from Parley's REST API, with its code (docs/api.md) and whether to try again later. */
export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly code: string | undefined) {
    super(message);
  }
}

/** The REST calls the widget makes (CORS; the deployment's allowed origins are checked by Parley). */
export class Api {
  constructor(private readonly base: string, private readonly deploymentId: string) {}

  config(): Promise<MessengerConfig> {
    return this.request<MessengerConfig>('GET', `/api/v1/deployments/${this.deploymentId}/messenger`);
  }

  /** Starts or resumes the device's session: anonymous, with the page's JWT, or with an authorization code. */
  session(body: { visitorToken?: string | null; jwt?: string; code?: string; state?: string; redirectUri?: string }): Promise<Session> {
    return this.request<Session>('POST', '/api/v1/sessions', { deploymentId: this.deploymentId, ...body });
  }

  /** Ends this device's session (its visitor token stops working; other devices keep theirs). */
  async logout(visitorToken: string): Promise<void> {
    await this.request<unknown>('POST', '/api/v1/consumer/session/logout', undefined, visitorToken);
  }

  /** A single-use state, nonce and PKCE challenge for a pre-chat code-flow login. */
  startLogin(redirectUri: string): Promise<CodeLogin> {
    return this.request<CodeLogin>('POST', '/api/v1/sessions/login', { deploymentId: this.deploymentId, redirectUri });
  }

  /** A fresh login link for the conversation (also with a token whose login ended, to renew it). */
  loginLink(visitorToken: string, conversationId: string): Promise<LoginLink> {
    return this.request<LoginLink>('POST', `/api/v1/consumer/conversations/${encodeURIComponent(conversationId)}/login-link`, {}, visitorToken);
  }

  /** Completes a login for the conversation with what the login link returned. */
  authenticate(visitorToken: string, conversationId: string, body: { state?: string; code?: string; jwt?: string; assertion?: string }): Promise<Authenticated> {
    return this.request<Authenticated>('POST', `/api/v1/consumer/conversations/${encodeURIComponent(conversationId)}/authenticate`, body, visitorToken);
  }

  private async request<T>(method: string, path: string, body?: unknown, bearer?: string): Promise<T> {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (bearer) {
      headers.authorization = `Bearer ${bearer}`;
    }
    const response = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      referrerPolicy: 'strict-origin',
    });
    const json = (await response.json().catch(() => ({}))) as T & { detail?: string; code?: string };
    if (!response.ok) {
      throw new ApiError(json.detail ?? `Parley answered ${response.status}.`, response.status, json.code);
    }
    return json;
  }
}
