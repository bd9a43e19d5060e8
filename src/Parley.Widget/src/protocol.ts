/** Parley's consumer protocol (docs/protocol.md): the shapes the widget reads. */

export type SenderRole = 'consumer' | 'agent' | 'bot' | 'system';

export interface Message {
  conversationId: string;
  seq: number;
  kind: 'text' | 'event';
  senderRole: SenderRole;
  senderId: string | null;
  clientMessageId: string | null;
  text: string;
  sentAt: string;
  data?: Record<string, unknown> | null;
}

export interface ConversationView {
  id: string;
  status: 'open' | 'closed';
  agentAssigned: boolean;
  lastSeq: number;
  createdAt: string;
  closedAt: string | null;
  authenticated?: boolean;
}

export interface Session {
  visitorToken: string;
  consumerId: string;
  authenticated: boolean;
  expiresAt: string;
  conversations: ConversationView[];
  showConversationId?: string | null;
}

export interface MessengerConfig {
  deploymentId: string;
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

/** Any frame from the server; members depend on `type`. */
export interface ServerFrame {
  type: string;
  requestId?: string;
  code?: string;
  message?: Message & string;
  retryable?: boolean;
  conversationId?: string;
  clientMessageId?: string;
  seq?: number;
  conversation?: ConversationView;
  receipt?: { role: string; deliveredSeq: number; readSeq: number };
  role?: string;
  isTyping?: boolean;
  visitorToken?: string;
  authenticated?: boolean;
  expiresAt?: string;
  lastSeq?: number;
}
