/** Parley's consumer REST shapes (docs/api.md); the WebSocket frames are the shared client's (src/Parley.Client). */
import type { ConsumerConversation } from '../../Parley.Client/src/frames';

export type { Message, SessionFrame } from '../../Parley.Client/src/frames';

export interface Session {
  visitorToken: string;
  consumerId: string;
  authenticated: boolean;
  expiresAt: string;
  conversations: ConsumerConversation[];
  showConversationId?: string | null;
}

export interface MessengerConfig {
  deploymentId: string;
  /** Logged-in visitors only: no launcher on pages where nobody is logged in. */
  authenticatedOnly?: boolean;
  title: string;
  windowMode: 'embedded' | 'window';
  /** `loginLinks`: the messenger can send the visitor to the brand's login page itself (the Log in button after an expiry). */
  authentication: { flow: 'implicit' | 'code'; jsClientFunction: string; loginLinks?: boolean } | null;
  windowUrl: string;
}

export interface CodeLogin {
  state: string;
  nonce: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  authorizationUrl: string | null;
  expiresAt: string;
}

/**
 * What the messenger tells the visitor above the conversation; `blocked` hides the composer too,
 * and `action` adds a button to the notice (`log-in`: a fresh login for this conversation).
 */
export interface Notice {
  text: string | null;
  blocked: boolean;
  action?: 'log-in' | null;
}

/** A login link for the conversation (`POST …/login-link`). */
export interface LoginLink {
  url: string;
  expiresAt: string;
}

/** A completed mid-chat login (`POST …/authenticate`): the device's new session and the conversation it continues in. */
export interface Authenticated {
  visitorToken: string;
  consumerId: string;
  expiresAt: string;
  conversation: ConsumerConversation;
}
