namespace Parley.Storage;

public abstract partial class SqlParleyStore : IMessageStore
{
    public async Task<IReadOnlyList<AppendResult>> AppendMessagesAsync(
        IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            if (message.ClientMessageId is not null && message.SenderId is null)
            {
                throw new ArgumentException("A message with a client message id needs a sender id.", nameof(messages));
            }
        }

        if (messages.Count == 0)
        {
            return [];
        }

        // A batch costs a few multi-row statements, not a few per message: lock its conversations,
        // look up its client message ids, insert its new messages, update its conversations.
        return await RunAsync(async connection =>
        {
            var results = new AppendResult[messages.Count];
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            await using var statements = new Statements(connection, transaction);

            // Locked in one order everywhere (the ids' text, which is how both databases order them),
            // so that concurrent batches on several nodes cannot deadlock.
            var conversationIds = messages.Select(m => m.ConversationId).Distinct()
                .OrderBy(id => id.ToString("D"), StringComparer.Ordinal).ToList();
            var conversations = new Dictionary<Guid, AppendState>();
            foreach (var chunk in conversationIds.Chunk(RowsPerStatement))
            {
                var (sql, parameters) = AppendStateQuery(chunk);
                var select = statements.For(sql, parameters);
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    conversations[ReadGuid(reader, 0)] = ReadAppendState(reader);
                }
            }

            if (messages.FirstOrDefault(m => m.Guard is null && !conversations.ContainsKey(m.ConversationId)) is { } orphan)
            {
                throw new KeyNotFoundException($"Conversation {orphan.ConversationId} does not exist.");
            }

            var stored = await FindByClientIdsAsync(statements, messages, cancellationToken);
            var created = new List<Message>();
            for (var i = 0; i < messages.Count; i++)
            {
                var message = messages[i];
                if (message.Guard is { } guard && conversations.GetValueOrDefault(message.ConversationId)?.Shows(guard) != true)
                {
                    results[i] = Refused(message, AppendRefusal.NotFound);
                    continue;
                }

                var key = message.ClientMessageId is { } clientId ? (message.ConversationId, message.SenderId!.Value, clientId) : default;
                if (message.ClientMessageId is not null && stored.TryGetValue(key, out var original))
                {
                    // Stored before, or earlier in this batch: the original, not a second copy.
                    results[i] = new AppendResult(original, Created: false);
                    continue;
                }

                var state = conversations[message.ConversationId];
                if (message.Guard is { } sender && state.Refuses(sender) is { } refusal)
                {
                    results[i] = Refused(message, refusal);
                    continue;
                }

                var appended = AsStored(message, ++state.LastSeq);
                state.LastSentAt = message.SentAt;
                if (!state.Responded && message is { SenderRole: ParticipantRole.Agent, Kind: MessageKind.Text })
                {
                    state.Responded = true;
                    state.FirstResponseAt = message.SentAt;
                }

                created.Add(appended);
                results[i] = new AppendResult(appended, Created: true);
                if (message.ClientMessageId is not null)
                {
                    stored[key] = appended;
                }
            }

            await InsertMessagesAsync(statements, created, cancellationToken);
            await UpdateConversationsAsync(statements, conversations, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (IReadOnlyList<AppendResult>)results;
        }, cancellationToken);
    }

    private AppendState ReadAppendState(DbDataReader r) => new(r.GetInt64(1), ReadTime(r, 2), !r.IsDBNull(3))
    {
        TenantId = ReadGuid(r, 4),
        ConsumerId = ReadGuid(r, 5),
        Open = r.GetString(6) == StatusName(ConversationStatus.Open),
        AssignedAgentId = r.IsDBNull(7) ? null : ReadGuid(r, 7),
    };

    /// <summary>The message as stored with this seq (0: not stored).</summary>
    private static Message AsStored(NewMessage message, long seq) => new(
        message.ConversationId, seq, message.Kind, message.SenderRole, message.SenderId, message.ClientMessageId, message.Text, message.SentAt, message.Data);

    private static AppendResult Refused(NewMessage message, AppendRefusal refusal) => new(AsStored(message, 0), Created: false, refusal);

    /// <summary>What appending a batch reads and changes on one conversation.</summary>
    private sealed class AppendState(long lastSeq, DateTimeOffset queuedAt, bool responded)
    {
        public required Guid TenantId { get; init; }

        public required Guid ConsumerId { get; init; }

        public required bool Open { get; init; }

        public required Guid? AssignedAgentId { get; init; }

        /// <summary>Whether the guard's sender may see the conversation at all.</summary>
        public bool Shows(AppendGuard guard) =>
            TenantId == guard.TenantId && (guard.ConsumerId is not { } consumer || consumer == ConsumerId);

        /// <summary>Why the guard's sender may not write to it now, if they may not.</summary>
        public AppendRefusal? Refuses(AppendGuard guard) =>
            !Open ? AppendRefusal.Closed
            : guard.AgentId is { } agent && agent != AssignedAgentId ? AppendRefusal.NotAssigned
            : null;

        public long FirstSeq { get; } = lastSeq;

        public long LastSeq { get; set; } = lastSeq;

        public DateTimeOffset QueuedAt { get; } = queuedAt;

        public bool Responded { get; set; } = responded;

        public DateTimeOffset LastSentAt { get; set; }

        /// <summary>Set when an agent answers for the first time in this batch.</summary>
        public DateTimeOffset? FirstResponseAt { get; set; }
    }

    /// <summary>The batch's messages that were stored before, by (conversation, sender, client message id).</summary>
    private async Task<Dictionary<(Guid, Guid, string), Message>> FindByClientIdsAsync(
        Statements statements, IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken)
    {
        var found = new Dictionary<(Guid, Guid, string), Message>();
        var keys = messages.Where(m => m.ClientMessageId is not null)
            .Select(m => (m.ConversationId, Sender: m.SenderId!.Value, ClientId: m.ClientMessageId!))
            .Distinct()
            .ToList();
        if (keys.Count == 0)
        {
            return found;
        }

        // At most 200 keys per statement keep an OR of terms under SQLite's expression depth limit.
        foreach (var chunk in keys.Chunk(Math.Min(200, RowsPerStatement)))
        {
            var (sql, parameters) = ClientIdLookup(chunk);
            var select = statements.For(sql, parameters);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var message = ReadMessage(reader);
                if (message is { SenderId: { } sender, ClientMessageId: { } clientId })
                {
                    found[(message.ConversationId, sender, clientId)] = message;
                }
            }
        }

        return found;
    }

    /// <summary>Inserts messages with multi-row INSERTs of <see cref="RowsPerStatement"/> rows.</summary>
    private async Task InsertMessagesAsync(Statements statements, List<Message> created, CancellationToken cancellationToken)
    {
        foreach (var chunk in created.Chunk(RowsPerStatement))
        {
            var (sql, parameters) = MessageInsert(chunk);
            await statements.For(sql, parameters).ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// A SELECT of <see cref="MessageColumns"/> for the messages with these (conversation, sender,
    /// client message id) keys: one exact key per term, so that each is a look-up in the unique index.
    /// </summary>
    protected virtual (string Sql, (string, object?)[] Parameters) ClientIdLookup(
        IReadOnlyList<(Guid ConversationId, Guid Sender, string ClientId)> keys) =>
        ($"SELECT {MessageColumns} FROM messages WHERE " +
            string.Join(" OR ", keys.Select((_, i) => $"(conversation_id = @c{i} AND sender_id = @s{i} AND client_message_id = @k{i})")),
         [.. keys.SelectMany((k, i) => new (string, object?)[] { ("c" + i, ToDb(k.ConversationId)), ("s" + i, ToDb(k.Sender)), ("k" + i, k.ClientId) })]);

    /// <summary>An INSERT of these messages (bodies protected): one VALUES row per message.</summary>
    protected virtual (string Sql, (string, object?)[] Parameters) MessageInsert(IReadOnlyList<Message> rows)
    {
        var parameters = new List<(string, object?)>(rows.Count * 9);
        var values = new List<string>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var m = rows[i];
            values.Add($"(@c{i}, @s{i}, @k{i}, @r{i}, @u{i}, @m{i}, @b{i}, @a{i}, @d{i})");
            parameters.AddRange(
            [
                ("c" + i, ToDb(m.ConversationId)), ("s" + i, m.Seq), ("k" + i, (int)m.Kind), ("r" + i, (int)m.SenderRole),
                ("u" + i, m.SenderId is { } sender ? ToDb(sender) : null), ("m" + i, m.ClientMessageId), ("b" + i, FieldProtector.Protect(m.Text)),
                ("a" + i, ToDb(m.SentAt)), ("d" + i, m.Data),
            ]);
        }

        return ($"INSERT INTO messages ({MessageColumns}) VALUES {string.Join(", ", values)}", [.. parameters]);
    }

    /// <summary>
    /// One UPDATE for the batch's conversations: the new last seq, and the first response (and how
    /// long after it started waiting) where an agent answered for the first time.
    /// </summary>
    private async Task UpdateConversationsAsync(
        Statements statements, Dictionary<Guid, AppendState> conversations, CancellationToken cancellationToken)
    {
        var advanced = conversations
            .Where(c => c.Value.LastSeq != c.Value.FirstSeq)
            .Select(c => new ConversationAdvance(
                c.Key, c.Value.LastSeq, c.Value.LastSentAt, c.Value.FirstResponseAt,
                c.Value.FirstResponseAt is { } first ? (long)Math.Max(0, (first - c.Value.QueuedAt).TotalMilliseconds) : null));
        foreach (var chunk in advanced.Chunk(RowsPerStatement))
        {
            var (sql, parameters) = ConversationUpdate(chunk);
            await statements.For(sql, parameters).ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>What appending moves forward on one conversation.</summary>
    protected readonly record struct ConversationAdvance(
        Guid Id, long LastSeq, DateTimeOffset UpdatedAt, DateTimeOffset? FirstResponseAt, long? FirstResponseMs);

    /// <summary>The columns <see cref="AppendStateQuery"/> selects, in this order.</summary>
    protected const string AppendStateColumns =
        "id, last_seq, COALESCE(queued_at, created_at), first_response_at, tenant_id, consumer_id, status, assigned_agent_id";

    /// <summary>
    /// A SELECT of <see cref="AppendStateColumns"/> for these conversations, locked (where the
    /// database locks rows) in the order of their ids' text, so that concurrent batches on several
    /// nodes cannot deadlock.
    /// </summary>
    protected virtual (string Sql, (string, object?)[] Parameters) AppendStateQuery(IReadOnlyList<Guid> ids)
    {
        var (idList, parameters) = InList("c", ids.Select(id => ToDb(id)));
        return ($"SELECT {AppendStateColumns} FROM conversations WHERE id IN ({idList}) ORDER BY id{ForUpdate}", parameters);
    }

    /// <summary>An UPDATE that moves these conversations forward: CASE terms with parameters per conversation.</summary>
    protected virtual (string Sql, (string, object?)[] Parameters) ConversationUpdate(IReadOnlyList<ConversationAdvance> rows)
    {
        var parameters = new List<(string, object?)>();
        var seqCases = new List<string>();
        var atCases = new List<string>();
        var responseCases = new List<string>();
        var waitCases = new List<string>();
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            parameters.AddRange([("i" + i, ToDb(row.Id)), ("s" + i, row.LastSeq), ("a" + i, ToDb(row.UpdatedAt))]);
            seqCases.Add($"WHEN @i{i} THEN @s{i}");
            atCases.Add($"WHEN @i{i} THEN @a{i}");
            if (row.FirstResponseAt is { } first)
            {
                parameters.AddRange([("f" + i, ToDb(first)), ("w" + i, row.FirstResponseMs)]);
                responseCases.Add($"WHEN @i{i} THEN @f{i}");
                waitCases.Add($"WHEN @i{i} THEN @w{i}");
            }
        }

        var response = responseCases.Count == 0
            ? ""
            : $", first_response_at = CASE id {string.Join(" ", responseCases)} ELSE first_response_at END" +
              $", first_response_ms = CASE id {string.Join(" ", waitCases)} ELSE first_response_ms END";
        return ($"UPDATE conversations SET last_seq = CASE id {string.Join(" ", seqCases)} END, " +
                $"updated_at = CASE id {string.Join(" ", atCases)} END{response} " +
                $"WHERE id IN ({string.Join(", ", rows.Select((_, i) => "@i" + i))})",
            [.. parameters]);
    }

    /// <summary>
    /// The commands of one transaction, by their SQL text: a statement that runs again with other
    /// values (on SQLite, once per row) is parsed and planned once instead of every time.
    /// </summary>
    private sealed class Statements(DbConnection connection, DbTransaction transaction) : IAsyncDisposable
    {
        private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

        /// <summary>The command for <paramref name="sql"/>, with these values (same names, same order as before).</summary>
        public DbCommand For(string sql, (string Name, object? Value)[] parameters)
        {
            if (!_commands.TryGetValue(sql, out var command))
            {
                command = Command(connection, transaction, sql, parameters);
                _commands.Add(sql, command);
                return command;
            }

            for (var i = 0; i < parameters.Length; i++)
            {
                command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
            }

            return command;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var command in _commands.Values)
            {
                await command.DisposeAsync();
            }
        }
    }

    /// <summary>An IN list of parameters named <paramref name="prefix"/>0, 1, …</summary>
    private static (string List, (string, object?)[] Parameters) InList(string prefix, IEnumerable<object?> values)
    {
        var parameters = values.Select((value, i) => (prefix + i, value)).ToArray();
        return (string.Join(", ", parameters.Select(p => "@" + p.Item1)), parameters);
    }

    public Task<IReadOnlyList<Message>> GetMessagesAsync(
        Guid conversationId, long afterSeq, int limit, CancellationToken cancellationToken) =>
        QueryListAsync(
            $"SELECT {MessageColumns} FROM messages WHERE conversation_id = @conversation AND seq > @after ORDER BY seq LIMIT @limit",
            ReadMessage,
            cancellationToken,
            ("conversation", ToDb(conversationId)), ("after", afterSeq), ("limit", limit));

    private Message ReadMessage(DbDataReader r) =>
        new(
            ReadGuid(r, 0),
            r.GetInt64(1),
            (MessageKind)r.GetInt32(2),
            (ParticipantRole)r.GetInt32(3),
            r.IsDBNull(4) ? null : ReadGuid(r, 4),
            NullableString(r, 5),
            FieldProtector.Unprotect(r.GetString(6)),
            ReadTime(r, 7),
            NullableString(r, 8));

    public async Task<Receipt> UpsertReceiptAsync(Receipt receipt, CancellationToken cancellationToken) =>
        (await QuerySingleAsync(
            "INSERT INTO receipts (conversation_id, participant_id, role, delivered_seq, read_seq, updated_at) " +
            "VALUES (@conversation, @participant, @role, @delivered, @read, @at) " +
            "ON CONFLICT (conversation_id, participant_id) DO UPDATE SET " +
            $"delivered_seq = {Greatest("receipts.delivered_seq", "excluded.delivered_seq")}, " +
            $"read_seq = {Greatest("receipts.read_seq", "excluded.read_seq")}, updated_at = excluded.updated_at " +
            "RETURNING conversation_id, participant_id, role, delivered_seq, read_seq, updated_at",
            ReadReceipt,
            cancellationToken,
            ("conversation", ToDb(receipt.ConversationId)),
            ("participant", ToDb(receipt.ParticipantId)),
            ("role", (int)receipt.Role),
            ("delivered", Math.Max(receipt.DeliveredSeq, receipt.ReadSeq)),
            ("read", receipt.ReadSeq),
            ("at", ToDb(receipt.UpdatedAt))))!;

    public Task<IReadOnlyList<Receipt>> GetReceiptsAsync(Guid conversationId, CancellationToken cancellationToken) =>
        QueryListAsync(
            "SELECT conversation_id, participant_id, role, delivered_seq, read_seq, updated_at FROM receipts " +
            "WHERE conversation_id = @conversation ORDER BY role, participant_id",
            ReadReceipt,
            cancellationToken,
            ("conversation", ToDb(conversationId)));

    private Receipt ReadReceipt(DbDataReader r) =>
        new(ReadGuid(r, 0), ReadGuid(r, 1), (ParticipantRole)r.GetInt32(2), r.GetInt64(3), r.GetInt64(4), ReadTime(r, 5));
}
