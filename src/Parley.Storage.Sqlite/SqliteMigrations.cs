namespace Parley.Storage.Sqlite;

internal static class SqliteMigrations
{
    // Ids are TEXT (canonical GUID form); times are INTEGER microseconds since the Unix epoch.
    public static readonly IReadOnlyList<SqlMigration> All =
    [
        new(1, "tenants, deployments, consumers, agents, conversations, messages, receipts", """
            CREATE TABLE tenants (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE TABLE deployments (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                name TEXT NOT NULL,
                allowed_origins TEXT NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE INDEX deployments_tenant ON deployments (tenant_id);
            CREATE TABLE consumers (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                issuer TEXT,
                subject TEXT,
                created_at INTEGER NOT NULL);
            CREATE UNIQUE INDEX consumers_identity ON consumers (tenant_id, issuer, subject) WHERE issuer IS NOT NULL;
            CREATE TABLE consumer_sessions (
                token_hash TEXT PRIMARY KEY,
                consumer_id TEXT NOT NULL REFERENCES consumers (id),
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                deployment_id TEXT NOT NULL REFERENCES deployments (id),
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL);
            CREATE INDEX consumer_sessions_consumer ON consumer_sessions (consumer_id);
            CREATE TABLE agents (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                email TEXT NOT NULL,
                email_normalized TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL,
                capacity INTEGER NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE TABLE agent_sessions (
                token_hash TEXT PRIMARY KEY,
                agent_id TEXT NOT NULL REFERENCES agents (id),
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL);
            CREATE TABLE conversations (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                deployment_id TEXT NOT NULL REFERENCES deployments (id),
                consumer_id TEXT NOT NULL REFERENCES consumers (id),
                status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
                queue TEXT,
                assigned_agent_id TEXT REFERENCES agents (id),
                last_seq INTEGER NOT NULL,
                attributes TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                closed_at INTEGER);
            CREATE INDEX conversations_consumer ON conversations (consumer_id, created_at);
            CREATE INDEX conversations_tenant ON conversations (tenant_id, status, created_at);
            CREATE TABLE messages (
                conversation_id TEXT NOT NULL REFERENCES conversations (id),
                seq INTEGER NOT NULL,
                kind INTEGER NOT NULL,
                sender_role INTEGER NOT NULL,
                sender_id TEXT,
                client_message_id TEXT,
                body TEXT NOT NULL,
                sent_at INTEGER NOT NULL,
                PRIMARY KEY (conversation_id, seq)) WITHOUT ROWID;
            CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, sender_id, client_message_id)
                WHERE client_message_id IS NOT NULL;
            CREATE TABLE receipts (
                conversation_id TEXT NOT NULL REFERENCES conversations (id),
                participant_id TEXT NOT NULL,
                role INTEGER NOT NULL,
                delivered_seq INTEGER NOT NULL,
                read_seq INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (conversation_id, participant_id));
            """),
        new(2, "authentication settings records", """
            CREATE TABLE authentication_settings (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                name TEXT NOT NULL,
                body TEXT NOT NULL,
                updated_at INTEGER NOT NULL);
            CREATE INDEX authentication_settings_tenant ON authentication_settings (tenant_id);
            """),
        new(3, "deployments name their authentication settings", """
            ALTER TABLE deployments ADD COLUMN authentication_settings_id TEXT REFERENCES authentication_settings (id);
            """),
        new(4, "what each authenticated consumer's latest login proved", """
            CREATE TABLE verified_identities (
                consumer_id TEXT PRIMARY KEY REFERENCES consumers (id),
                issuer TEXT NOT NULL,
                subject TEXT NOT NULL,
                verified_claims TEXT NOT NULL,
                context_variables TEXT NOT NULL,
                acr TEXT,
                authenticated_at INTEGER NOT NULL,
                authenticated_until INTEGER NOT NULL);
            """),
        new(5, "single-use login states", """
            CREATE TABLE login_states (
                state_hash TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                deployment_id TEXT NOT NULL REFERENCES deployments (id),
                conversation_id TEXT REFERENCES conversations (id),
                nonce TEXT NOT NULL,
                code_verifier TEXT NOT NULL,
                redirect_uri TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL);
            CREATE INDEX login_states_expiry ON login_states (expires_at);
            """),
        new(6, "bots, authenticated conversations, event data, mid-chat logins", """
            ALTER TABLE deployments ADD COLUMN bot TEXT;
            ALTER TABLE conversations ADD COLUMN authenticated INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE conversations ADD COLUMN bot_case TEXT;
            ALTER TABLE messages ADD COLUMN data TEXT;
            ALTER TABLE login_states ADD COLUMN consumer_id TEXT REFERENCES consumers (id);
            """),
        new(7, "routing: queues, priorities, agent queues, first responses", """
            ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE conversations ADD COLUMN routing_rule TEXT;
            ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
            UPDATE conversations SET queued_at = created_at;
            ALTER TABLE conversations ADD COLUMN routed_until INTEGER;
            ALTER TABLE conversations ADD COLUMN first_response_at INTEGER;
            ALTER TABLE conversations ADD COLUMN first_response_ms INTEGER;
            CREATE INDEX conversations_waiting ON conversations (tenant_id, priority DESC, queued_at)
                WHERE status = 'open' AND assigned_agent_id IS NULL;
            CREATE INDEX conversations_assigned ON conversations (assigned_agent_id)
                WHERE status = 'open' AND assigned_agent_id IS NOT NULL;
            CREATE INDEX conversations_reroute ON conversations (routed_until) WHERE routed_until IS NOT NULL;
            CREATE INDEX conversations_responded ON conversations (first_response_at) WHERE first_response_at IS NOT NULL;
            ALTER TABLE agents ADD COLUMN queues TEXT;
            CREATE TABLE routing_configurations (
                tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
                body TEXT NOT NULL,
                updated_at INTEGER NOT NULL);
            """),
        new(8, "nodes and agent presence, shared by all nodes", """
            CREATE TABLE parley_nodes (
                node_id TEXT PRIMARY KEY,
                seen_at INTEGER NOT NULL);
            CREATE TABLE agent_presence (
                agent_id TEXT NOT NULL REFERENCES agents (id),
                node_id TEXT NOT NULL,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                connections INTEGER NOT NULL,
                changed_at INTEGER NOT NULL,
                PRIMARY KEY (agent_id, node_id));
            CREATE INDEX agent_presence_tenant ON agent_presence (tenant_id);
            CREATE INDEX agent_presence_node ON agent_presence (node_id);
            """),
        new(9, "deployments' messenger settings (window mode, title)", """
            ALTER TABLE deployments ADD COLUMN messenger TEXT;
            """),
        new(10, "audit events", """
            CREATE TABLE audit_events (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES tenants (id),
                at INTEGER NOT NULL,
                kind TEXT NOT NULL,
                outcome TEXT NOT NULL,
                actor_type TEXT NOT NULL,
                actor_id TEXT,
                deployment_id TEXT,
                conversation_id TEXT,
                subject TEXT,
                reason TEXT,
                detail TEXT);
            CREATE INDEX audit_events_tenant ON audit_events (tenant_id, at DESC);
            """),
        new(11, "failed agent sign-ins per account key, and the audit log's retention", """
            CREATE TABLE sign_in_failures (
                key_hash TEXT PRIMARY KEY,
                failures INTEGER NOT NULL,
                locked_until INTEGER,
                updated_at INTEGER NOT NULL);
            CREATE INDEX audit_events_at ON audit_events (at);
            """),
        new(12, "ids of tokens that count once (back-channel logout)", """
            CREATE TABLE used_token_ids (
                id_hash TEXT PRIMARY KEY,
                keep_until INTEGER NOT NULL);
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
            ALTER TABLE verified_identities ADD COLUMN auth_time INTEGER;
            ALTER TABLE verified_identities ADD COLUMN amr TEXT;
            ALTER TABLE login_states ADD COLUMN acr_values TEXT;
            ALTER TABLE login_states ADD COLUMN max_age INTEGER;
            """),
    ];
}
