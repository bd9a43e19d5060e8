import type {
  AgentConversation, ClientFrame, ConsumerConversation, Message, Receipt, ServerFrame,
} from './frames';

/**
 * Every frame's members, as data: what the drift test compares with protocol/frames.schema.json
 * (exported from the server's records). The types below make the compiler reject a list that does
 * not match the TypeScript frame types: a missing or extra frame or member, or a member whose type
 * does not fit its spec. So frames.ts, this list and the server's records move together.
 *
 * A spec is the member's JSON type: `string`, `uuid`, `date-time`, `integer`, `number`,
 * `boolean`, `record<string>` (string → string), `json` (any object), a view's name, `X[]`;
 * `|null` when it may be null; a leading `?` when it may be absent.
 */

interface Views {
  Message: Message;
  Receipt: Receipt;
  ConsumerConversation: ConsumerConversation;
  AgentConversation: AgentConversation;
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type ViewName<T> = { [K in keyof Views]: Same<T, Views[K]> extends true ? K : never }[keyof Views];

type Base<T> = [ViewName<T>] extends [never]
  ? [T] extends [string] ? 'string' | 'uuid' | 'date-time'
    : [T] extends [number] ? 'integer' | 'number'
      : [T] extends [boolean] ? 'boolean'
        : [T] extends [readonly (infer E)[]] ? `${Base<E>}[]`
          : [T] extends [Record<string, string>] ? 'record<string>'
            : [T] extends [Record<string, unknown>] ? 'json'
              : never
  : ViewName<T>;

type Nullable<T> = null extends T ? `${Base<Exclude<T, null>>}|null` : Base<T>;
type Spec<T, K extends keyof T> = {} extends Pick<T, K> ? `?${Nullable<Exclude<T[K], undefined>>}` : Nullable<T[K]>;

/** Exactly the members of T but `type`, each with a spec that fits its TypeScript type. */
export type Members<T> = { [K in Exclude<keyof T, 'type'>]: Spec<T, K> };
export type FrameMembers<F extends { type: string }> = { [T in F['type']]: Members<Extract<F, { type: T }>> };
export type ViewMembers = { [K in keyof Views]: Members<Views[K]> };

export const viewMembers = {
  Message: {
    conversationId: 'uuid', seq: 'integer', kind: 'string', senderRole: 'string', senderId: 'uuid|null',
    clientMessageId: 'string|null', text: 'string', sentAt: 'date-time', data: '?json',
  },
  Receipt: { conversationId: 'uuid', participantId: 'uuid', role: 'string', deliveredSeq: 'integer', readSeq: 'integer', updatedAt: 'date-time' },
  ConsumerConversation: {
    id: 'uuid', status: 'string', agentAssigned: 'boolean', lastSeq: 'integer', createdAt: 'date-time', closedAt: 'date-time|null',
    authenticated: 'boolean',
  },
  AgentConversation: {
    id: 'uuid', deploymentId: 'uuid', consumerId: 'uuid', status: 'string', queue: 'string|null', assignedAgentId: 'uuid|null',
    lastSeq: 'integer', engagementAttributes: 'record<string>', createdAt: 'date-time', updatedAt: 'date-time', closedAt: 'date-time|null',
    authenticated: 'boolean', botCase: 'string|null', priority: 'integer', routingRule: 'string|null', queuedAt: 'date-time|null',
    firstResponseAt: 'date-time|null',
  },
} as const satisfies ViewMembers;

const request = '?string|null';

export const clientFrameMembers = {
  auth: { requestId: request, token: 'string' },
  ping: { requestId: request },
  'conversation.start': { requestId: request, attributes: '?record<string>|null' },
  'conversation.subscribe': { requestId: request, conversationId: 'uuid', since: '?integer' },
  'message.send': { requestId: request, conversationId: 'uuid', clientMessageId: 'string', text: 'string' },
  receipt: { requestId: request, conversationId: 'uuid', deliveredSeq: '?integer', readSeq: '?integer' },
  typing: { requestId: request, conversationId: 'uuid', isTyping: '?boolean' },
  'conversation.close': { requestId: request, conversationId: 'uuid' },
  'conversation.resume': { requestId: request, conversationId: 'uuid' },
  'history.clear': { requestId: request, conversationId: 'uuid' },
  'conversation.accept': { requestId: request, conversationId: 'uuid' },
  'conversations.list': { requestId: request, status: '?string|null' },
  'conversation.authenticate': {
    requestId: request, conversationId: 'uuid', state: '?string|null', code: '?string|null', jwt: '?string|null', assertion: '?string|null',
  },
} as const satisfies FrameMembers<ClientFrame>;

const reply = '?string';

export const serverFrameMembers = {
  ready: { requestId: reply, role: 'string', participantId: 'uuid', tenantId: 'uuid' },
  pong: { requestId: reply },
  error: { requestId: reply, code: 'string', message: 'string', retryable: 'boolean', conversationId: '?uuid', clientMessageId: '?string' },
  conversation: { requestId: reply, conversation: 'ConsumerConversation' },
  'conversation.updated': { requestId: reply, conversation: 'AgentConversation' },
  conversations: { requestId: reply, items: 'AgentConversation[]' },
  subscribed: { requestId: reply, conversationId: 'uuid', since: 'integer', lastSeq: 'integer' },
  message: { requestId: reply, message: 'Message' },
  'message.ack': { requestId: reply, conversationId: 'uuid', clientMessageId: 'string', seq: 'integer', sentAt: 'date-time', duplicate: 'boolean' },
  receipt: { requestId: reply, receipt: 'Receipt' },
  typing: { requestId: reply, conversationId: 'uuid', participantId: 'uuid', role: 'string', isTyping: 'boolean' },
  'history.cleared': { requestId: reply, conversationId: 'uuid' },
  session: { requestId: reply, visitorToken: 'string', consumerId: 'uuid', authenticated: 'boolean', expiresAt: 'date-time', conversation: 'ConsumerConversation' },
  'auth.expired': { requestId: reply, expiredAt: 'date-time' },
} as const satisfies FrameMembers<ServerFrame>;
