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
  authentication: { flow: 'implicit' | 'code'; jsClientFunction: string } | null;
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

/** What the messenger tells the visitor above the conversation; `blocked` hides the composer too. */
export interface Notice {
  text: string | null;
  blocked: boolean;
}
