using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Parley.Conversations;

namespace Parley.Storage.Postgres;

/// <summary>
/// Fan-out across the nodes that share one PostgreSQL, through LISTEN/NOTIFY. Local connections
/// get events at once, in process; other nodes get a notification carrying ids and seq only (never
/// a message body), batched, and read what they need from storage, and only for conversations
/// their own connections watch. One listening connection per node. A node whose listening
/// connection dropped (or that could not read storage) catches its watched conversations up from
/// storage by seq, so live clients never miss a message, whichever node they are on.
/// </summary>
public sealed partial class PostgresFanout : ILiveFanout, IHostedService, IAsyncDisposable
{
    public const string ChannelName = "parley_live";

    /// <summary>Below PostgreSQL's 8000-byte NOTIFY payload limit, with room for the envelope.</summary>
    private const int MaxPayloadBytes = 7800;
    private const int MaxNoticesPerRound = 2000;
    private const string Resync = "resync";
    private static readonly TimeSpan ListenerCheck = TimeSpan.FromSeconds(20);

    private readonly InProcessFanout _local = new();
    private readonly NpgsqlDataSource _dataSource;
    private readonly SqlParleyStore _store;
    private readonly ILogger<PostgresFanout> _logger;
    private readonly string _node = Guid.NewGuid().ToString("N");
    private readonly Channel<string> _outgoing = Channel.CreateBounded<string>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<string> _incoming = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loops = Task.CompletedTask;
    private volatile bool _dropped;

    public PostgresFanout(string connectionString, SqlParleyStore store, ILogger<PostgresFanout> logger)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _store = store;
        _logger = logger;
    }

    public IDisposable SubscribeConversation(Guid conversationId, ILiveSubscriber subscriber) => _local.SubscribeConversation(conversationId, subscriber);

    public IDisposable SubscribeTenant(Guid tenantId, ILiveSubscriber subscriber) => _local.SubscribeTenant(tenantId, subscriber);

    public IDisposable SubscribeParticipant(Guid participantId, ILiveSubscriber subscriber) => _local.SubscribeParticipant(participantId, subscriber);

    public void Publish(LiveEvent liveEvent)
    {
        _local.Publish(liveEvent);
        var notice = liveEvent switch
        {
            MessageStored m => new Notice("m", m.TenantId, m.ConversationId, Seq: m.Message.Seq),
            ReceiptChanged r => new Notice("r", r.TenantId, r.ConversationId, Participant: r.Receipt.ParticipantId),
            TypingChanged t => new Notice("y", t.TenantId, t.ConversationId, Participant: t.ParticipantId, Role: (int)t.Role, On: t.IsTyping),
            ConversationChanged c => new Notice("c", c.TenantId, c.ConversationId),
            SessionEnded s => new Notice("s", s.TenantId, Guid.Empty, Participant: s.ParticipantId, Session: s.SessionHash, Reason: s.Reason),
            _ => null,
        };
        if (notice is not null && !_outgoing.Writer.TryWrite(JsonSerializer.Serialize(notice, FanoutJsonContext.Default.Notice)))
        {
            // Too much queued while the database was away: the other nodes are told to catch up instead.
            _dropped = true;
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _loops = Task.WhenAll(SendLoopAsync(_stopping.Token), ListenLoopAsync(_stopping.Token), ReceiveLoopAsync(_stopping.Token));

        // Listening before taking traffic keeps the window in which this node could miss a notice
        // small; if the database is slow to answer, the catch-up after connecting covers it.
        await Task.WhenAny(_listening.Task, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _outgoing.Writer.TryComplete();
        await Task.WhenAny(_loops, Task.Delay(TimeSpan.FromSeconds(2), cancellationToken));
        await _stopping.CancelAsync();
        await Task.WhenAny(_loops, Task.Delay(TimeSpan.FromSeconds(2), cancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAny(_loops, Task.Delay(TimeSpan.FromSeconds(2)));
        _stopping.Dispose();
        await _dataSource.DisposeAsync();
    }

    /// <summary>Sends what was published, batched into as few NOTIFYs as fit, retrying while the database is away.</summary>
    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _outgoing.Reader.WaitToReadAsync(cancellationToken))
            {
                var notices = new List<string>();
                while (notices.Count < MaxNoticesPerRound && _outgoing.Reader.TryRead(out var notice))
                {
                    notices.Add(notice);
                }

                if (_dropped)
                {
                    _dropped = false;
                    notices.Add(JsonSerializer.Serialize(new Notice(Resync, Guid.Empty, Guid.Empty), FanoutJsonContext.Default.Notice));
                }

                var payloads = Envelopes(notices);
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        await NotifyAsync(payloads, cancellationToken);
                        break;
                    }
                    catch (Exception exception) when (exception is NpgsqlException or IOException or TimeoutException && !cancellationToken.IsCancellationRequested)
                    {
                        if (attempt == 0)
                        {
                            LogNotifyFailed(_logger, exception);
                        }

                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 << Math.Min(attempt, 5))), cancellationToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private List<string> Envelopes(List<string> notices)
    {
        var payloads = new List<string>();
        var current = new StringBuilder();
        foreach (var notice in notices)
        {
            if (current.Length > 0 && current.Length + notice.Length + 40 > MaxPayloadBytes)
            {
                payloads.Add(Close(current));
                current.Clear();
            }

            current.Append(current.Length == 0 ? $"{{\"n\":\"{_node}\",\"e\":[" : ",").Append(notice);
        }

        if (current.Length > 0)
        {
            payloads.Add(Close(current));
        }

        return payloads;

        static string Close(StringBuilder builder) => builder.Append("]}").ToString();
    }

    private async Task NotifyAsync(List<string> payloads, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT " + string.Join(", ", payloads.Select((_, i) => $"pg_notify('{ChannelName}', @p{i})")));
        for (var i = 0; i < payloads.Count; i++)
        {
            command.Parameters.AddWithValue("p" + i, payloads[i]);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Holds one connection in LISTEN; reconnects when it drops and then asks for a catch-up.</summary>
    private async Task ListenLoopAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, e) => _incoming.Writer.TryWrite(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {ChannelName}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
                }

                if (failures > 0)
                {
                    LogListening(_logger);
                }

                failures = 0;
                _listening.TrySetResult();

                // Whatever was published while this node was not listening is in storage: catch up.
                _incoming.Writer.TryWrite(Resync);
                while (!cancellationToken.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(ListenerCheck, cancellationToken))
                    {
                        // Quiet for a while: make sure the connection is still there (a dead network never says so).
                        await using var ping = new NpgsqlCommand("SELECT 1", connection);
                        await ping.ExecuteScalarAsync(cancellationToken);
                    }
                }
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                if (failures++ == 0)
                {
                    LogListenFailed(_logger, exception);
                }

                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 << Math.Min(failures, 5))), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Turns notifications from other nodes into local events, reading storage once per burst and conversation.</summary>
    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _incoming.Reader.WaitToReadAsync(cancellationToken))
            {
                var resync = false;
                var notices = new List<Notice>();
                while (_incoming.Reader.TryRead(out var payload))
                {
                    if (payload == Resync)
                    {
                        resync = true;
                    }
                    else if (Parse(payload) is { } batch && batch.N != _node)
                    {
                        resync |= batch.E.Any(n => n.K == Resync);
                        notices.AddRange(batch.E);
                    }
                }

                try
                {
                    // Ended sessions carry all they need and are never caught up from storage: deliver them always.
                    PublishSessionEnds(notices);
                    if (resync)
                    {
                        await CatchUpAsync(cancellationToken);
                    }
                    else
                    {
                        await DeliverAsync(notices, cancellationToken);
                    }
                }
                catch (StorageUnavailableException exception)
                {
                    // Storage is away: try again shortly, from storage, for everything watched here.
                    LogCatchUpFailed(_logger, exception);
                    _ = Task.Delay(TimeSpan.FromSeconds(1), cancellationToken)
                        .ContinueWith(_ => _incoming.Writer.TryWrite(Resync), TaskScheduler.Default);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private NoticeBatch? Parse(string payload)
    {
        try
        {
            return JsonSerializer.Deserialize(payload, FanoutJsonContext.Default.NoticeBatch);
        }
        catch (JsonException)
        {
            LogBadPayload(_logger);
            return null;
        }
    }

    private async Task DeliverAsync(List<Notice> notices, CancellationToken cancellationToken)
    {
        foreach (var messages in notices.Where(n => n.K == "m" && _local.Watches(n.C)).GroupBy(n => n.C))
        {
            var from = messages.Min(n => n.Seq);
            var to = messages.Max(n => n.Seq);
            foreach (var message in await _store.GetMessagesAsync(messages.Key, from - 1, (int)Math.Min(200, to - from + 1), cancellationToken))
            {
                _local.Publish(new MessageStored(messages.First().T, message));
            }
        }

        foreach (var receipts in notices.Where(n => n.K == "r" && _local.Watches(n.C)).GroupBy(n => n.C))
        {
            var changed = receipts.Select(n => n.Participant).ToHashSet();
            foreach (var receipt in await _store.GetReceiptsAsync(receipts.Key, cancellationToken))
            {
                if (changed.Contains(receipt.ParticipantId))
                {
                    _local.Publish(new ReceiptChanged(receipts.First().T, receipt));
                }
            }
        }

        foreach (var typing in notices.Where(n => n.K == "y" && _local.Watches(n.C)))
        {
            _local.Publish(new TypingChanged(typing.T, typing.C, typing.Participant, (ParticipantRole)typing.Role, typing.On));
        }

        foreach (var change in notices.Where(n => n.K == "c" && (_local.Watches(n.C) || _local.WatchesTenant(n.T))).DistinctBy(n => n.C))
        {
            if (await _store.GetConversationAsync(change.C, cancellationToken) is { } conversation)
            {
                _local.Publish(new ConversationChanged(conversation));
            }
        }
    }

    private void PublishSessionEnds(List<Notice> notices)
    {
        foreach (var ended in notices.Where(n => n.K == "s"))
        {
            _local.Publish(new SessionEnded(ended.T, ended.Participant, ended.Session, ended.Reason ?? "ended"));
        }
    }

    /// <summary>
    /// Brings every conversation watched here up to date from storage: its state, its newest message
    /// (a connection that is behind reads the gap by seq) and its receipts.
    /// </summary>
    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        foreach (var conversationId in _local.WatchedConversations)
        {
            if (await _store.GetConversationAsync(conversationId, cancellationToken) is not { } conversation)
            {
                continue;
            }

            _local.Publish(new ConversationChanged(conversation));
            if (conversation.LastSeq > 0)
            {
                foreach (var newest in await _store.GetMessagesAsync(conversationId, conversation.LastSeq - 1, 1, cancellationToken))
                {
                    _local.Publish(new MessageStored(conversation.TenantId, newest));
                }
            }

            foreach (var receipt in await _store.GetReceiptsAsync(conversationId, cancellationToken))
            {
                _local.Publish(new ReceiptChanged(conversation.TenantId, receipt));
            }
        }
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Sending live notifications to the other nodes failed; retrying")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "The live notification listener lost its connection; reconnecting")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "The live notification listener is connected again; catching up from storage")]
    private static partial void LogListening(ILogger logger);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Catching up live events from storage failed; retrying")]
    private static partial void LogCatchUpFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "Ignored a live notification that is not Parley's")]
    private static partial void LogBadPayload(ILogger logger);
}

/// <summary>
/// One event as other nodes see it: a kind (<c>m</c> message stored, <c>r</c> receipt, <c>y</c>
/// typing, <c>c</c> conversation changed, <c>s</c> session ended, <c>resync</c>), the tenant and
/// conversation, and the seq, participant, role, typing flag, ended session's hash and reason where
/// they apply. Ids only: never a message body or a token.
/// </summary>
internal sealed record Notice(
    string K,
    Guid T,
    Guid C,
    long Seq = 0,
    Guid Participant = default,
    int Role = 0,
    bool On = false,
    string? Session = null,
    string? Reason = null);

/// <summary>A node's notices in one NOTIFY payload.</summary>
internal sealed record NoticeBatch(string N, List<Notice> E);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(Notice))]
[JsonSerializable(typeof(NoticeBatch))]
internal sealed partial class FanoutJsonContext : JsonSerializerContext;
