namespace Parley.Storage.Postgres;

internal static class PostgresMigrations
{
    public static readonly IReadOnlyList<SqlMigration> All =
    [
        new(1, "tenants, deployments, consumers, agents, conversations, messages, receipts", """
            CREATE TABLE tenants (
                id uuid PRIMARY KEY,
                name text NOT NULL,
                created_at timestamptz NOT NULL);
            CREATE TABLE deployments (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants (id),
                name text NOT NULL,
                allowed_origins text NOT NULL,
                created_at timestamptz NOT NULL);
            CREATE INDEX deployments_tenant ON deployments (tenant_id);
            CREATE TABLE consumers (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants (id),
                issuer text,
                subject text,
                created_at timestamptz NOT NULL);
            CREATE UNIQUE INDEX consumers_identity ON consumers (tenant_id, issuer, subject) WHERE issuer IS NOT NULL;
            CREATE TABLE consumer_sessions (
                token_hash text PRIMARY KEY,
                consumer_id uuid NOT NULL REFERENCES consumers (id),
                tenant_id uuid NOT NULL REFERENCES tenants (id),
                deployment_id uuid NOT NULL REFERENCES deployments (id),
                created_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL);
            CREATE INDEX consumer_sessions_consumer ON consumer_sessions (consumer_id);
            CREATE TABLE agents (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants (id),
                email text NOT NULL,
                email_normalized text NOT NULL UNIQUE,
                display_name text NOT NULL,
                password_hash text NOT NULL,
                role text NOT NULL,
                capacity integer NOT NULL,
                created_at timestamptz NOT NULL);
            CREATE TABLE agent_sessions (
                token_hash text PRIMARY KEY,
                agent_id uuid NOT NULL REFERENCES agents (id),
                tenant_id uuid NOT NULL REFERENCES tenants (id),
                created_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL);
            CREATE TABLE conversations (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants (id),
                deployment_id uuid NOT NULL REFERENCES deployments (id),
                consumer_id uuid NOT NULL REFERENCES consumers (id),
                status text NOT NULL CHECK (status IN ('open', 'closed')),
                queue text,
                assigned_agent_id uuid REFERENCES agents (id),
                last_seq bigint NOT NULL,
                attributes text NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                closed_at timestamptz);
            CREATE INDEX conversations_consumer ON conversations (consumer_id, created_at);
            CREATE INDEX conversations_tenant ON conversations (tenant_id, status, created_at);
            CREATE TABLE messages (
                conversation_id uuid NOT NULL REFERENCES conversations (id),
                seq bigint NOT NULL,
                kind integer NOT NULL,
                sender_role integer NOT NULL,
                sender_id uuid,
                client_message_id text,
                body text NOT NULL,
                sent_at timestamptz NOT NULL,
                PRIMARY KEY (conversation_id, seq));
            CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, sender_id, client_message_id)
                WHERE client_message_id IS NOT NULL;
            CREATE TABLE receipts (
                conversation_id uuid NOT NULL REFERENCES conversations (id),
                participant_id uuid NOT NULL,
                role integer NOT NULL,
                delivered_seq bigint NOT NULL,
                read_seq bigint NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (conversation_id, participant_id));
            """),
        new(2, "authentication settings records", """
            CREATE TABLE authentication_settings (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants (id),
                name text NOT NULL,
                body text NOT NULL,
                updated_at timestamptz NOT NULL);
            CREATE INDEX authentication_settings_tenant ON authentication_settings (tenant_id);
            """),
        new(3, "deployments name their authentication settings", """
            ALTER TABLE deployments ADD COLUMN authentication_settings_id uuid REFERENCES authentication_settings (id);
            """),
        new(4, "what each authenticated consumer's latest login proved", """
            CREATE TABLE verified_identities (
                consumer_id uuid PRIMARY KEY REFERENCES consumers (id),
                issuer text NOT NULL,
                subject text NOT NULL,
                verified_claims text NOT NULL,
                context_variables text NOT NULL,
                acr text,
                authenticated_at timestamptz NOT NULL,
                authenticated_until timestamptz NOT NULL);
            """),
        new(5, "single-use login states", """
            CREATE TABLE login_states (
                state_hash text PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants (id),
                deployment_id uuid NOT NULL REFERENCES deployments (id),
                conversation_id uuid REFERENCES conversations (id),
                nonce text NOT NULL,
                code_verifier text NOT NULL,
                redirect_uri text NOT NULL,
                created_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL);
            CREATE INDEX login_states_expiry ON login_states (expires_at);
            """),
        new(6, "bots, authenticated conversations, event data, mid-chat logins", """
            ALTER TABLE deployments ADD COLUMN bot text;
            ALTER TABLE conversations ADD COLUMN authenticated integer NOT NULL DEFAULT 0;
            ALTER TABLE conversations ADD COLUMN bot_case text;
            ALTER TABLE messages ADD COLUMN data text;
            ALTER TABLE login_states ADD COLUMN consumer_id uuid REFERENCES consumers (id);
            """),
        new(7, "routing: queues, priorities, agent queues, first responses", """
            ALTER TABLE conversations ADD COLUMN priority integer NOT NULL DEFAULT 0;
            ALTER TABLE conversations ADD COLUMN routing_rule text;
            ALTER TABLE conversations ADD COLUMN queued_at timestamptz;
            UPDATE conversations SET queued_at = created_at;
            ALTER TABLE conversations ADD COLUMN routed_until timestamptz;
            ALTER TABLE conversations ADD COLUMN first_response_at timestamptz;
            ALTER TABLE conversations ADD COLUMN first_response_ms bigint;
            CREATE INDEX conversations_waiting ON conversations (tenant_id, priority DESC, queued_at)
                WHERE status = 'open' AND assigned_agent_id IS NULL;
            CREATE INDEX conversations_assigned ON conversations (assigned_agent_id)
                WHERE status = 'open' AND assigned_agent_id IS NOT NULL;
            CREATE INDEX conversations_reroute ON conversations (routed_until) WHERE routed_until IS NOT NULL;
            CREATE INDEX conversations_responded ON conversations (first_response_at) WHERE first_response_at IS NOT NULL;
            ALTER TABLE agents ADD COLUMN queues text;
            CREATE TABLE routing_configurations (
                tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
                body text NOT NULL,
                updated_at timestamptz NOT NULL);
            """),
        new(8, "nodes and agent presence, shared by all nodes", """
            CREATE TABLE parley_nodes (
                node_id uuid PRIMARY KEY,
                seen_at timestamptz NOT NULL);
            CREATE TABLE agent_presence (
                agent_id uuid NOT NULL REFERENCES agents (id),
                node_id uuid NOT NULL,
                tenant_id uuid NOT NULL REFERENCES tenants (id),
                connections integer NOT NULL,
                changed_at timestamptz NOT NULL,
                PRIMARY KEY (agent_id, node_id));
            CREATE INDEX agent_presence_tenant ON agent_presence (tenant_id);
            CREATE INDEX agent_presence_node ON agent_presence (node_id);
            """),
        new(9, "deployments' messenger settings (window mode, title)", """
            ALTER TABLE deployments ADD COLUMN messenger text;
            """),
        new(10, "audit events", """
            CREATE TABLE audit_events (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants (id),
                at timestamptz NOT NULL,
                kind text NOT NULL,
                outcome text NOT NULL,
                actor_type text NOT NULL,
                actor_id uuid,
                deployment_id uuid,
                conversation_id uuid,
                subject text,
                reason text,
                detail text);
            CREATE INDEX audit_events_tenant ON audit_events (tenant_id, at DESC);
            """),
        new(11, "failed agent sign-ins per account key, and the audit log's retention", """
            CREATE TABLE sign_in_failures (
                key_hash text PRIMARY KEY,
                failures integer NOT NULL,
                locked_until timestamptz,
                updated_at timestamptz NOT NULL);
            CREATE INDEX audit_events_at ON audit_events (at);
            """),
        new(12, "ids of tokens that count once (back-channel logout)", """
            CREATE TABLE used_token_ids (
                id_hash text PRIMARY KEY,
                keep_until timestamptz NOT NULL);
            """),
        new(13, "one open conversation per consumer and deployment", """
            UPDATE conversations SET status = 'closed', closed_at = updated_at
            WHERE status = 'open' AND EXISTS (
                SELECT 1 FROM conversations newer
                WHERE newer.consumer_id = conversations.consumer_id AND newer.deployment_id = conversations.deployment_id AND newer.status = 'open'
                    AND (newer.created_at > conversations.created_at OR (newer.created_at = conversations.created_at AND newer.id > conversations.id)));
            CREATE UNIQUE INDEX conversations_one_open ON conversations (consumer_id, deployment_id) WHERE status = 'open';
            """),
        new(14, "assurance: auth_time and amr of a login, a login link's acr_values and max_age", """
            ALTER TABLE verified_identities ADD COLUMN auth_time timestamptz;
            ALTER TABLE verified_identities ADD COLUMN amr text;
            ALTER TABLE login_states ADD COLUMN acr_values text;
            ALTER TABLE login_states ADD COLUMN max_age integer;
            """),
    ];
}
