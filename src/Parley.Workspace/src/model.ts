/** The shapes of Parley's agent and admin API (docs/api.md, docs/protocol.md). */
import type { AgentConversation } from '../../Parley.Client/src';

export type { Message, Receipt, Role } from '../../Parley.Client/src';

/** A conversation as agents see it, over REST and in `conversation.updated` frames. */
export type Conversation = AgentConversation;

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
