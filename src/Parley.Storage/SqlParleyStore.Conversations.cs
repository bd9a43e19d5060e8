namespace Parley.Storage;

public abstract partial class SqlParleyStore : IConversationStore
{
    /// <summary>The tables whose rows belong to a conversation (deleted before it).</summary>
    private static readonly string[] ConversationChildren = ["messages", "receipts", "login_states"];

    public Task<int> DeleteClosedConversationsAsync(DateTimeOffset closedBefore, int limit, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            var ids = new List<object?>();
            await using (var select = Command(connection, transaction,
                $"SELECT id FROM conversations WHERE status = 'closed' AND closed_at < @before ORDER BY closed_at LIMIT @limit{ForUpdate}",
                [("before", ToDb(closedBefore)), ("limit", limit)]))
            {
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    ids.Add(ToDb(ReadGuid(reader, 0)));
                }
            }

            if (ids.Count > 0)
            {
                var (list, parameters) = InList("c", ids);
                foreach (var table in ConversationChildren)
                {
                    await using var delete = Command(connection, transaction, $"DELETE FROM {table} WHERE conversation_id IN ({list})", parameters);
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                }

                await using var conversations = Command(connection, transaction, $"DELETE FROM conversations WHERE id IN ({list})", parameters);
                await conversations.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return ids.Count;
        }, cancellationToken);


    public async Task<bool> CreateConversationAsync(Conversation conversation, CancellationToken cancellationToken)
    {
        if (conversation.LastSeq != 0)
        {
            throw new ArgumentException("A new conversation has no messages (LastSeq must be 0).", nameof(conversation));
        }

        // ON CONFLICT: the consumer's open conversation on the deployment (index conversations_one_open) stays the only one.
        return await ExecuteAsync(
            $"INSERT INTO conversations ({ConversationColumns}) VALUES (@id, @tenant, @deployment, @consumer, @status, @queue, @agent, 0, @attributes, @at, @at, NULL, @authenticated, @case, " +
            "@priority, @rule, @queued, NULL, @until) ON CONFLICT DO NOTHING",
            cancellationToken,
            ("id", ToDb(conversation.Id)),
            ("tenant", ToDb(conversation.TenantId)),
            ("deployment", ToDb(conversation.DeploymentId)),
            ("consumer", ToDb(conversation.ConsumerId)),
            ("status", StatusName(conversation.Status)),
            ("queue", conversation.Queue),
            ("agent", conversation.AssignedAgentId is { } agent ? ToDb(agent) : null),
            ("attributes", conversation.Attributes.ToJson()),
            ("at", ToDb(conversation.CreatedAt)),
            ("authenticated", conversation.Authenticated ? 1 : 0),
            ("case", conversation.BotCase),
            ("priority", conversation.Priority),
            ("rule", conversation.RoutingRule),
            ("queued", ToDb(conversation.QueuedAt ?? conversation.CreatedAt)),
            ("until", conversation.RoutedUntil is { } until ? ToDb(until) : null)) == 1;
    }

    public Task<Conversation?> GetConversationAsync(Guid conversationId, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            $"SELECT {ConversationColumns} FROM conversations WHERE id = @id",
            ReadConversation,
            cancellationToken,
            ("id", ToDb(conversationId)));

    public Task<IReadOnlyList<Conversation>> ListConversationsByConsumerAsync(Guid consumerId, CancellationToken cancellationToken) =>
        QueryListAsync(
            $"SELECT {ConversationColumns} FROM conversations WHERE consumer_id = @consumer ORDER BY created_at DESC, id",
            ReadConversation,
            cancellationToken,
            ("consumer", ToDb(consumerId)));

    public Task<IReadOnlyList<Conversation>> ListConversationsByTenantAsync(
        Guid tenantId, ConversationStatus? status, int limit, CancellationToken cancellationToken) =>
        QueryListAsync(
            $"SELECT {ConversationColumns} FROM conversations WHERE tenant_id = @tenant " +
            (status is null ? "" : "AND status = @status ") +
            "ORDER BY created_at, id LIMIT @limit",
            ReadConversation,
            cancellationToken,
            ("tenant", ToDb(tenantId)),
            ("status", status is { } s ? StatusName(s) : null),
            ("limit", limit));

    /// <summary>
    /// The SQL for one member of a JSON object column as text (<paramref name="keyParameter"/> names
    /// the parameter holding the member's name; names with a quote or a backslash are not searchable).
    /// </summary>
    protected abstract string JsonMember(string column, string keyParameter);

    public Task<IReadOnlyList<Conversation>> SearchConversationsAsync(
        Guid tenantId, ConversationSearch search, CancellationToken cancellationToken)
    {
        var where = new List<string> { "c.tenant_id = @tenant" };
        if (search.Status is not null)
        {
            where.Add("c.status = @status");
        }

        if (search.AssignedAgentId is not null)
        {
            where.Add("c.assigned_agent_id = @agent");
        }

        if (search.From is not null)
        {
            where.Add("c.created_at >= @from");
        }

        if (search.To is not null)
        {
            where.Add("c.created_at < @to");
        }

        if (search.Consumer is not null)
        {
            // A consumer id, a verified subject, or part of a verified claim (name, email, phone…).
            where.Add("(c.consumer_id = @consumerId OR EXISTS (SELECT 1 FROM verified_identities v WHERE v.consumer_id = c.consumer_id " +
                "AND (v.subject = @consumer OR lower(v.verified_claims) LIKE @consumerLike ESCAPE '!')))");
        }

        if (search.Text is not null)
        {
            where.Add($"EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.kind = {(int)MessageKind.Text} AND lower(m.body) LIKE @textLike ESCAPE '!')");
        }

        if (search.AttributeName is not null)
        {
            where.Add($"lower({JsonMember("c.attributes", "@attributeName")}) = @attributeValue");
        }

        return QueryListAsync(
            $"SELECT {string.Join(", ", ConversationColumns.Split(", ").Select(column => "c." + column))} FROM conversations c " +
            $"WHERE {string.Join(" AND ", where)} ORDER BY c.created_at DESC, c.id LIMIT @limit",
            ReadConversation,
            cancellationToken,
            ("tenant", ToDb(tenantId)),
            ("status", search.Status is { } status ? StatusName(status) : null),
            ("from", search.From is { } from ? ToDb(from) : null),
            ("to", search.To is { } to ? ToDb(to) : null),
            ("consumerId", Guid.TryParse(search.Consumer, out var consumerId) ? ToDb(consumerId) : ToDb(Guid.Empty)),
            ("consumer", search.Consumer),
            ("consumerLike", Contains(search.Consumer)),
            ("textLike", Contains(search.Text)),
            ("attributeName", search.AttributeName),
            ("attributeValue", search.AttributeValue?.ToLowerInvariant()),
            ("agent", search.AssignedAgentId is { } agent ? ToDb(agent) : null),
            ("limit", search.Limit));
    }

    /// <summary>A LIKE pattern (escape character <c>!</c>) for a case-insensitive substring match.</summary>
    private static string? Contains(string? text) =>
        text is null ? null : "%" + text.ToLowerInvariant().Replace("!", "!!").Replace("%", "!%").Replace("_", "!_") + "%";

    public async Task<bool> SetConversationStatusAsync(
        Guid conversationId, ConversationStatus status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var sql = status == ConversationStatus.Closed
            ? "UPDATE conversations SET status = 'closed', closed_at = @at, updated_at = @at WHERE id = @id AND status = 'open'"
            : "UPDATE conversations SET status = 'open', closed_at = NULL, assigned_agent_id = NULL, queued_at = @at, updated_at = @at WHERE id = @id AND status = 'closed'";
        return await ExecuteAsync(sql, cancellationToken, ("at", ToDb(now)), ("id", ToDb(conversationId))) == 1;
    }

    public Task SetEngagementAttributesAsync(
        Guid conversationId, EngagementAttributes attributes, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE conversations SET attributes = @attributes, updated_at = @at WHERE id = @id",
            cancellationToken,
            ("attributes", attributes.ToJson()), ("at", ToDb(now)), ("id", ToDb(conversationId)));

    private Conversation ReadConversation(DbDataReader r) =>
        new(
            ReadGuid(r, 0),
            ReadGuid(r, 1),
            ReadGuid(r, 2),
            ReadGuid(r, 3),
            r.GetString(4) == "open" ? ConversationStatus.Open : ConversationStatus.Closed,
            NullableString(r, 5),
            r.IsDBNull(6) ? null : ReadGuid(r, 6),
            r.GetInt64(7),
            EngagementAttributes.FromJson(NullableString(r, 8)),
            ReadTime(r, 9),
            ReadTime(r, 10),
            r.IsDBNull(11) ? null : ReadTime(r, 11),
            Convert.ToInt64(r.GetValue(12), System.Globalization.CultureInfo.InvariantCulture) != 0,
            NullableString(r, 13),
            ToInt(r.GetValue(14)),
            NullableString(r, 15),
            r.IsDBNull(16) ? null : ReadTime(r, 16),
            r.IsDBNull(17) ? null : ReadTime(r, 17),
            r.IsDBNull(18) ? null : ReadTime(r, 18));

    public async Task<TransferOutcome> TransferConversationAsync(
        Guid conversationId, Guid fromConsumerId, Guid toConsumerId, bool authenticated, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            return await RunAsync(async connection =>
            {
                await using var transaction = await BeginWriteAsync(connection, cancellationToken);
                (string, object?)[] ids = [("id", ToDb(conversationId)), ("from", ToDb(fromConsumerId)), ("to", ToDb(toConsumerId))];
                await using (var open = Command(connection, transaction,
                    "SELECT 1 FROM conversations c JOIN conversations o ON o.consumer_id = @to AND o.deployment_id = c.deployment_id AND o.status = 'open' " +
                    "WHERE c.id = @id AND c.consumer_id = @from AND c.status = 'open' AND o.id <> c.id",
                    ids))
                {
                    if (await open.ExecuteScalarAsync(cancellationToken) is not null)
                    {
                        return TransferOutcome.CustomerHasOpen;
                    }
                }

                await using (var move = Command(connection, transaction,
                    "UPDATE conversations SET consumer_id = @to, authenticated = @authenticated, updated_at = @at WHERE id = @id AND consumer_id = @from",
                    [.. ids, ("authenticated", authenticated ? 1 : 0), ("at", ToDb(now))]))
                {
                    if (await move.ExecuteNonQueryAsync(cancellationToken) != 1)
                    {
                        return TransferOutcome.NotOwned;
                    }
                }

                // One consumer participant: what the device read before the login is the customer's now.
                await using (var merge = Command(connection, transaction,
                    "INSERT INTO receipts (conversation_id, participant_id, role, delivered_seq, read_seq, updated_at) " +
                    "SELECT conversation_id, @to, role, delivered_seq, read_seq, updated_at FROM receipts WHERE conversation_id = @id AND participant_id = @from " +
                    "ON CONFLICT (conversation_id, participant_id) DO UPDATE SET " +
                    $"delivered_seq = {Greatest("receipts.delivered_seq", "excluded.delivered_seq")}, read_seq = {Greatest("receipts.read_seq", "excluded.read_seq")}",
                    ids))
                {
                    await merge.ExecuteNonQueryAsync(cancellationToken);
                }

                await using (var forget = Command(connection, transaction, "DELETE FROM receipts WHERE conversation_id = @id AND participant_id = @from", ids))
                {
                    await forget.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                return TransferOutcome.Transferred;
            }, cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            // Another node opened or moved the customer's conversation between the check and the move.
            return TransferOutcome.CustomerHasOpen;
        }
    }

    public Task<MergeResult?> MergeConversationAsync(
        Guid fromId, Guid fromConsumerId, Guid intoId, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);

            // Both rows locked in id order, as appends lock them: a message sent to either waits for the merge.
            var rows = new Dictionary<Guid, (Guid Tenant, Guid Deployment, Guid Consumer, bool Open, Guid? Agent, long LastSeq)>();
            var (list, parameters) = InList("c", [ToDb(fromId), ToDb(intoId)]);
            await using (var select = Command(connection, transaction,
                $"SELECT id, tenant_id, deployment_id, consumer_id, status, assigned_agent_id, last_seq FROM conversations WHERE id IN ({list}) ORDER BY id{ForUpdate}",
                parameters))
            {
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows[ReadGuid(reader, 0)] = (ReadGuid(reader, 1), ReadGuid(reader, 2), ReadGuid(reader, 3), reader.GetString(4) == "open",
                        await reader.IsDBNullAsync(5, cancellationToken) ? null : ReadGuid(reader, 5), reader.GetInt64(6));
                }
            }

            if (fromId == intoId || !rows.TryGetValue(fromId, out var from) || !rows.TryGetValue(intoId, out var into)
                || !from.Open || !into.Open || from.Consumer != fromConsumerId || from.Tenant != into.Tenant || from.Deployment != into.Deployment)
            {
                return null;
            }

            (string, object?)[] ids = [("from", ToDb(fromId)), ("into", ToDb(intoId)), ("at", ToDb(now))];
            await using (var close = Command(connection, transaction,
                "UPDATE conversations SET status = 'closed', closed_at = @at, updated_at = @at WHERE id = @from", ids))
            {
                await close.ExecuteNonQueryAsync(cancellationToken);
            }

            int copied;
            await using (var copy = Command(connection, transaction,
                $"INSERT INTO messages ({MessageColumns}) " +
                "SELECT @into, @base + ROW_NUMBER() OVER (ORDER BY seq), kind, sender_role, sender_id, NULL, body, sent_at, @data " +
                "FROM messages WHERE conversation_id = @from AND kind = @text",
                [.. ids, ("base", into.LastSeq), ("data", new System.Text.Json.Nodes.JsonObject { ["mergedFrom"] = fromId.ToString() }.ToJsonString()),
                    ("text", (int)MessageKind.Text)]))
            {
                copied = await copy.ExecuteNonQueryAsync(cancellationToken);
            }

            // One agent keeps the customer: the surviving conversation's, or else the merged one's.
            var agentMoved = into.Agent is null ? from.Agent : null;
            await using (var advance = Command(connection, transaction,
                "UPDATE conversations SET last_seq = @last, updated_at = @at" +
                (agentMoved is null ? "" : ", assigned_agent_id = @agent, routed_until = NULL") + " WHERE id = @into",
                [.. ids, ("last", into.LastSeq + copied), ("agent", agentMoved is { } agent ? ToDb(agent) : null)]))
            {
                await advance.ExecuteNonQueryAsync(cancellationToken);
            }

            var messages = new List<Message>(copied);
            await using (var read = Command(connection, transaction,
                $"SELECT {MessageColumns} FROM messages WHERE conversation_id = @into AND seq > @base ORDER BY seq", [.. ids, ("base", into.LastSeq)]))
            {
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    messages.Add(ReadMessage(reader));
                }
            }

            await transaction.CommitAsync(cancellationToken);
            return (MergeResult?)new MergeResult(messages, agentMoved);
        }, cancellationToken);

    public Task SetConversationBotCaseAsync(Guid conversationId, string? botCase, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE conversations SET bot_case = @case, updated_at = @at WHERE id = @id",
            cancellationToken,
            ("case", botCase), ("at", ToDb(now)), ("id", ToDb(conversationId)));

    private static string StatusName(ConversationStatus status) => status == ConversationStatus.Open ? "open" : "closed";
}
