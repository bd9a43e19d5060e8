/** The shapes of Parley's agent and admin API (docs/api.md, docs/protocol.md). */

export type Role = 'consumer' | 'agent' | 'bot' | 'system';

export interface Message {
  conversationId: string;
  seq: number;
  kind: 'text' | 'event';
  senderRole: Role;
  senderId: string | null;
  clientMessageId: string | null;
  text: string;
  sentAt: string;
  data?: Record<string, unknown> | null;
}

export interface Conversation {
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
  botCase?: string | null;
  priority?: number;
  routingRule?: string | null;
  queuedAt?: string | null;
  firstResponseAt?: string | null;
}

export interface Receipt {
  conversationId: string;
  participantId: string;
  role: Role;
  deliveredSeq: number;
  readSeq: number;
  updatedAt: string;
}

export interface AgentProfile {
  id: string;
  tenantId: string;
  email: string;
  displayName: string;
  role: 'agent' | 'admin';
  capacity: number;
  queues: string[] | null;
}

export interface ConsumerPanel {
  consumerId: string;
  authentication: 'authenticated' | 'expired' | 'anonymous';
  authenticatedSince: string | null;
  authenticatedUntil: string | null;
  verified: {
    issuer: string;
    subject: string;
    claims: Record<string, string>;
    labels: Record<string, string>;
    contextVariables: Record<string, string>;
    acr: string | null;
  } | null;
  unverified: { engagementAttributes: Record<string, string> };
}
