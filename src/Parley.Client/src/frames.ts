/**
 * Parley's WebSocket frames (docs/protocol.md), as discriminated unions on `type`.
 *
 * They mirror the server's records in src/Parley.Server/Realtime/Frames.cs and the views in
 * src/Parley.Server/Conversations/Views.cs. They cannot drift apart silently: `members.ts` lists
 * every frame's members in a form the compiler checks against these types, and a test compares
 * that list with protocol/frames.schema.json, which a server test exports from the records.
 *
 * Client frames: a member the server defaults (`since`, `isTyping`, …) is optional here, as it is
 * there. Server frames: every member is always written (possibly `null`) except the optional ones,
 * which the server omits when it has no value.
 */

export type Role = 'consumer' | 'agent' | 'bot' | 'system';

// ---- the views frames carry ----

/** A message. Events (`kind: 'event'`) name themselves in `text` and may carry `data`. */
export interface Message {
  conversationId: string;
  seq: number;
  kind: 'text' | 'event';
  senderRole: Role;
  senderId: string | null;
  clientMessageId: string | null;
  text: string;
  sentAt: string;
  data?: Record<string, unknown>;
}

export interface Receipt {
  conversationId: string;
  participantId: string;
  role: Role;
  deliveredSeq: number;
  readSeq: number;
  updatedAt: string;
}

/** A conversation as its visitor sees it. */
export interface ConsumerConversation {
  id: string;
  status: 'open' | 'closed';
  agentAssigned: boolean;
  lastSeq: number;
  createdAt: string;
  closedAt: string | null;
  authenticated: boolean;
}

/** A conversation as the agents of its tenant see it. `engagementAttributes` are unverified page data. */
export interface AgentConversation {
  id: string;
  deploymentId: string;
  consumerId: string;
  status: 'open' | 'closed';
  queue: string | null;
  assignedAgentId: string | null;
  lastSeq: number;
  engagementAttributes: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  authenticated: boolean;
  botCase: string | null;
  priority: number;
  routingRule: string | null;
  queuedAt: string | null;
  firstResponseAt: string | null;
}

// ---- client → server ----

/** Echoed on the direct reply and on any error about the frame. */
interface ClientBase {
  requestId?: string | null;
}

export interface AuthFrame extends ClientBase { type: 'auth'; token: string }
export interface PingFrame extends ClientBase { type: 'ping' }
export interface StartConversationFrame extends ClientBase { type: 'conversation.start'; attributes?: Record<string, string> | null }
export interface SubscribeFrame extends ClientBase { type: 'conversation.subscribe'; conversationId: string; since?: number }
export interface SendMessageFrame extends ClientBase { type: 'message.send'; conversationId: string; clientMessageId: string; text: string }
export interface SendReceiptFrame extends ClientBase { type: 'receipt'; conversationId: string; deliveredSeq?: number; readSeq?: number }
export interface SendTypingFrame extends ClientBase { type: 'typing'; conversationId: string; isTyping?: boolean }
export interface CloseConversationFrame extends ClientBase { type: 'conversation.close'; conversationId: string }
export interface ResumeConversationFrame extends ClientBase { type: 'conversation.resume'; conversationId: string }
export interface ClearHistoryFrame extends ClientBase { type: 'history.clear'; conversationId: string }
export interface AcceptConversationFrame extends ClientBase { type: 'conversation.accept'; conversationId: string }
export interface ListConversationsFrame extends ClientBase { type: 'conversations.list'; status?: 'open' | 'closed' | 'all' | null }
/** A mid-chat login's result: `state` and one of `code`, `jwt`, `assertion` (or a `jwt` alone). */
export interface AuthenticateConversationFrame extends ClientBase {
  type: 'conversation.authenticate';
  conversationId: string;
  state?: string | null;
  code?: string | null;
  jwt?: string | null;
  assertion?: string | null;
}

export type ClientFrame =
  | AuthFrame
  | PingFrame
  | StartConversationFrame
  | SubscribeFrame
  | SendMessageFrame
  | SendReceiptFrame
  | SendTypingFrame
  | CloseConversationFrame
  | ResumeConversationFrame
  | ClearHistoryFrame
  | AcceptConversationFrame
  | ListConversationsFrame
  | AuthenticateConversationFrame;

/** The frames a visitor's device may send (the others are refused with `forbidden`). */
export type VisitorFrame = Exclude<ClientFrame, AcceptConversationFrame | ListConversationsFrame>;

/** The frames an agent may send. */
export type AgentFrame = Exclude<ClientFrame, StartConversationFrame | ClearHistoryFrame | AuthenticateConversationFrame>;

// ---- server → client ----

interface ServerBase {
  /** The `requestId` of the client frame this answers, when it had one. */
  requestId?: string;
}

export interface ReadyFrame extends ServerBase { type: 'ready'; role: 'consumer' | 'agent'; participantId: string; tenantId: string }
export interface PongFrame extends ServerBase { type: 'pong' }
export interface ErrorFrame extends ServerBase {
  type: 'error';
  code: string;
  message: string;
  /** Nothing was done; the same frame may be sent again later. */
  retryable: boolean;
  conversationId?: string;
  clientMessageId?: string;
}
/** (visitors) A conversation: the reply to start, close and resume, and pushed when it changes. */
export interface ConversationFrame extends ServerBase { type: 'conversation'; conversation: ConsumerConversation }
/** (agents) A conversation of the tenant was created or changed; also the reply to accept, close and resume. */
export interface ConversationUpdatedFrame extends ServerBase { type: 'conversation.updated'; conversation: AgentConversation }
export interface ConversationListFrame extends ServerBase { type: 'conversations'; items: AgentConversation[] }
/** Replay after `conversation.subscribe` is complete; live messages follow. */
export interface SubscribedFrame extends ServerBase { type: 'subscribed'; conversationId: string; since: number; lastSeq: number }
export interface MessageFrame extends ServerBase { type: 'message'; message: Message }
/** The message is durably stored; `duplicate` when it had been stored before (a resend). */
export interface AckFrame extends ServerBase {
  type: 'message.ack';
  conversationId: string;
  clientMessageId: string;
  seq: number;
  sentAt: string;
  duplicate: boolean;
}
export interface ReceiptFrame extends ServerBase { type: 'receipt'; receipt: Receipt }
export interface TypingFrame extends ServerBase { type: 'typing'; conversationId: string; participantId: string; role: Role; isTyping: boolean }
export interface HistoryClearedFrame extends ServerBase { type: 'history.cleared'; conversationId: string }
/** A mid-chat login completed: keep `visitorToken` for reconnecting (this connection already uses it). */
export interface SessionFrame extends ServerBase {
  type: 'session';
  visitorToken: string;
  consumerId: string;
  authenticated: boolean;
  expiresAt: string;
  conversation: ConsumerConversation;
}
/** The device's session ended (a logged-in visitor's authentication expired). */
export interface AuthExpiredFrame extends ServerBase { type: 'auth.expired'; expiredAt: string }

export type ServerFrame =
  | ReadyFrame
  | PongFrame
  | ErrorFrame
  | ConversationFrame
  | ConversationUpdatedFrame
  | ConversationListFrame
  | SubscribedFrame
  | MessageFrame
  | AckFrame
  | ReceiptFrame
  | TypingFrame
  | HistoryClearedFrame
  | SessionFrame
  | AuthExpiredFrame;

/** The frame of a given `type`. */
export type ServerFrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** What the server answers (with the same `requestId`) to each client frame that has a direct reply. */
export interface Replies {
  ping: PongFrame;
  'conversation.start': ConversationFrame;
  'conversation.subscribe': SubscribedFrame;
  'message.send': AckFrame;
  'conversation.close': ConversationFrame | ConversationUpdatedFrame;
  'conversation.resume': ConversationFrame | ConversationUpdatedFrame;
  'history.clear': HistoryClearedFrame;
  'conversation.accept': ConversationUpdatedFrame;
  'conversations.list': ConversationListFrame;
  'conversation.authenticate': SessionFrame;
}
