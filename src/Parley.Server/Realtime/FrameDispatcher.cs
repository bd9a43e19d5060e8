using Parley.Messaging;
using System.Net.WebSockets;
using Parley.Conversations;
using Parley.Security;

namespace Parley.Realtime;

/// <summary>
/// The one dispatch point for inbound frames of one connection. Frames are handled in arrival
/// order; a send is acknowledged asynchronously once durable, so a client may pipeline sends.
/// </summary>
internal sealed partial class FrameDispatcher(
    ConversationService conversations,
    ILiveFanout fanout,
    CallerAuthenticator authenticator,
    Conversations.MidChatLogin login,
    Routing.AutoAssigner assigner,
    ConsumerConnections consumerConnections,
    Authentication.AuthenticationExpiry expiry,
    RealtimeOptions options,
    TimeProvider time,
    ILogger logger,
    ParticipantRole role,
    Guid? deploymentId) : IDisposable
{
    private readonly SemaphoreSlim _inFlight = new(options.MaxSendsInFlight);
    private int _pending;
    private TaskCompletionSource? _drained;
    private ITimer? _sessionEnd;
    private ITimer? _recheck;
    private AgentCaller? _present;
    private DateTimeOffset _recheckAt;
    private Guid? _countedConsumer;

    public void OnReady(RealtimeConnection connection)
    {
        var caller = connection.Caller!;
        if (caller is ConsumerCaller consumer && _countedConsumer is null)
        {
            if (!consumerConnections.TryOpen(consumer.ConsumerId))
            {
                connection.Send(new ErrorFrame(ErrorCodes.TooManyConnections, "This visitor has too many open connections; close some tabs and try again.", true));
                connection.Close(WebSocketCloseStatus.PolicyViolation, "too many connections");
                return;
            }

            _countedConsumer = consumer.ConsumerId;
        }

        if (caller is AgentCaller agent)
        {
            connection.SubscribeTenant(fanout, agent.TenantId);
            if (_present is null)
            {
                _present = agent;
                _ = assigner.AgentConnectedAsync(agent.TenantId, agent.AgentId);
            }
        }

        connection.Send(new ReadyFrame(role.Wire(), caller.ParticipantId, caller.TenantId));
        LogReady(logger, connection.ConnectionId, role.Wire(), caller.ParticipantId);
        connection.WatchSession(fanout);
        _recheckAt = time.GetUtcNow() + options.SessionRecheckInterval;
        WatchSessionEnd(connection);
        if (caller is AgentCaller && _recheck is null)
        {
            // An agent's console may sit idle for hours while it receives the whole tenant's updates:
            // it re-reads its session on a timer, not only at its next frame (visitors' sockets do that).
            _recheck = time.CreateTimer(_ => _ = RecheckAsync(connection), null, options.SessionRecheckInterval, options.SessionRecheckInterval);
        }
    }

    /// <summary>
    /// Acts the moment the caller's session runs out. A consumer's connection is told (for a
    /// logged-in visitor: the authentication ended) and stays open: sends are refused until it logs
    /// in again. An agent's sign-in that expires ends the connection, as signing out does.
    /// </summary>
    private void WatchSessionEnd(RealtimeConnection connection)
    {
        _sessionEnd?.Dispose();
        _sessionEnd = null;
        if (connection.Caller is not { } caller)
        {
            return;
        }

        var due = caller.Until - time.GetUtcNow();
        var longest = TimeSpan.FromMilliseconds(uint.MaxValue - 1);
        _sessionEnd = time.CreateTimer(
            _ =>
            {
                if (caller is ConsumerCaller consumer)
                {
                    connection.Send(new AuthExpiredFrame(consumer.SessionExpiresAt));
                    _ = expiry.OnSessionEndedAsync(consumer);
                }
                else
                {
                    connection.EndSession("the sign-in expired");
                }
            },
            null,
            due < TimeSpan.Zero ? TimeSpan.Zero : due > longest ? longest : due,
            Timeout.InfiniteTimeSpan);
    }

    private async Task RecheckAsync(RealtimeConnection connection)
    {
        try
        {
            if (connection.Caller is { } caller && connection.EndedBecause is null && !await authenticator.StillStoredAsync(caller, CancellationToken.None))
            {
                connection.EndSession("it was ended elsewhere");
            }
        }
        catch (Storage.StorageUnavailableException)
        {
            // The database is away: the next round asks again.
        }
    }

    /// <summary>
    /// Refuses frames on a connection whose session ended, and now and then (a frame after
    /// <see cref="RealtimeOptions.SessionRecheckInterval"/>) checks that the session is still stored.
    /// </summary>
    private async Task EnsureSessionAsync(RealtimeConnection connection, Caller caller, CancellationToken cancellationToken)
    {
        if (connection.EndedBecause is null && time.GetUtcNow() >= _recheckAt)
        {
            _recheckAt = time.GetUtcNow() + options.SessionRecheckInterval;
            if (!await authenticator.StillStoredAsync(caller, cancellationToken))
            {
                connection.EndSession("it was ended elsewhere");
            }
        }

        if (connection.EndedBecause is { } reason)
        {
            throw new ParleyException(ErrorCodes.AuthenticationExpired, $"This session has ended ({reason}). Sign in again.", StatusCodes.Status401Unauthorized);
        }
    }

    public async Task DispatchAsync(RealtimeConnection connection, InboundFrame? frame, ErrorFrame? parseError, CancellationToken cancellationToken)
    {
        if (frame is null)
        {
            connection.Send(parseError!);
            return;
        }

        try
        {
            await HandleAsync(connection, frame, cancellationToken);
        }
        catch (Exception exception) when (Refusal(exception) is { } refusal)
        {
            connection.Send(ErrorFor(frame, refusal));
        }
    }

    private async Task HandleAsync(RealtimeConnection connection, InboundFrame frame, CancellationToken cancellationToken)
    {
        if (frame is AuthFrame auth)
        {
            await AuthenticateAsync(connection, auth, cancellationToken);
            return;
        }

        // Every other frame, ping included, needs an authenticated connection (docs/protocol.md).
        var caller = connection.Caller
            ?? throw new ParleyException(ErrorCodes.Unauthorized, "Send an \"auth\" frame first.", StatusCodes.Status401Unauthorized);
        await EnsureSessionAsync(connection, caller, cancellationToken);
        if (frame is PingFrame)
        {
            connection.Send(new PongFrame { RequestId = frame.RequestId });
            return;
        }

        switch (frame)
        {
            case StartConversationFrame start when caller is ConsumerCaller consumer:
                var started = await conversations.StartAsync(consumer, start.Attributes, cancellationToken);
                connection.Send(new ConsumerConversationFrame(started.ToConsumerView()) { RequestId = frame.RequestId });
                break;
            case SubscribeFrame subscribe:
                await conversations.GetAsync(caller, subscribe.ConversationId, cancellationToken);
                connection.Subscribe(fanout, subscribe.ConversationId, subscribe.Since, frame.RequestId);
                break;
            case SendMessageFrame send:
                await SubmitAsync(connection, caller, send, cancellationToken);
                break;
            case ReceiptFrame receipt:
                await conversations.MarkAsync(caller, receipt.ConversationId, receipt.DeliveredSeq, receipt.ReadSeq, cancellationToken);
                break;
            case TypingFrame typing:
                await conversations.TypingAsync(caller, typing.ConversationId, typing.IsTyping, cancellationToken);
                break;
            case CloseConversationFrame close:
                Reply(connection, frame, await conversations.CloseAsync(caller, close.ConversationId, cancellationToken));
                break;
            case ResumeConversationFrame resume:
                Reply(connection, frame, await conversations.ResumeAsync(caller, resume.ConversationId, cancellationToken));
                break;
            case ClearHistoryFrame clear when caller is ConsumerCaller consumer:
                // This connection ends by its own request, with history.cleared: only the device's others are told.
                connection.UnwatchSession();
                try
                {
                    await conversations.ClearHistoryAsync(consumer, clear.ConversationId, cancellationToken);
                }
                catch
                {
                    connection.WatchSession(fanout); // nothing was cleared: the session's end still concerns this socket
                    throw;
                }
                connection.Send(new HistoryClearedFrame(clear.ConversationId) { RequestId = frame.RequestId });
                connection.Close(WebSocketCloseStatus.NormalClosure, "history cleared");
                break;
            case AuthenticateConversationFrame authenticate when caller is ConsumerCaller consumer:
                var upgraded = await login.AuthenticateAsync(consumer, authenticate.ConversationId,
                    new Conversations.AuthenticateConversationRequest(authenticate.State, authenticate.Code, authenticate.Jwt, authenticate.Assertion), cancellationToken);
                connection.Caller = upgraded.Caller;
                connection.WatchSession(fanout);
                WatchSessionEnd(connection);
                connection.Send(new SessionFrame(upgraded.VisitorToken, upgraded.ConsumerId, true, upgraded.ExpiresAt, upgraded.Conversation) { RequestId = frame.RequestId });
                break;
            case AcceptConversationFrame accept when caller is AgentCaller agent:
                Reply(connection, frame, await conversations.AcceptAsync(agent, accept.ConversationId, cancellationToken));
                break;
            case ListConversationsFrame list when caller is AgentCaller agent:
                var status = list.Status switch
                {
                    null => (ConversationStatus?)ConversationStatus.Open,
                    "open" => ConversationStatus.Open,
                    "closed" => ConversationStatus.Closed,
                    "all" => null,
                    _ => throw ParleyException.Invalid("status is one of open, closed, all."),
                };
                var items = await conversations.ListForAgentAsync(agent, status, 500, cancellationToken);
                connection.Send(new ConversationListFrame(items.Select(c => c.ToAgentView()).ToList()) { RequestId = frame.RequestId });
                break;
            default:
                throw new ParleyException(ErrorCodes.Forbidden, $"This frame is not available to {role.Wire()} connections.", StatusCodes.Status403Forbidden);
        }
    }

    private static void Reply(RealtimeConnection connection, InboundFrame frame, Conversation conversation) =>
        connection.Send(connection.Caller is AgentCaller
            ? new AgentConversationFrame(conversation.ToAgentView()) { RequestId = frame.RequestId }
            : new ConsumerConversationFrame(conversation.ToConsumerView()) { RequestId = frame.RequestId });

    private async Task AuthenticateAsync(RealtimeConnection connection, AuthFrame auth, CancellationToken cancellationToken)
    {
        if (connection.Caller is not null)
        {
            throw ParleyException.Invalid("This connection is already authenticated.");
        }

        var check = role == ParticipantRole.Consumer ? await authenticator.CheckConsumerAsync(auth.Token, cancellationToken) : default;
        var caller = role == ParticipantRole.Consumer
            ? check.Caller is { } consumer && consumer.DeploymentId == deploymentId ? consumer : null
            : (Caller?)await authenticator.AuthenticateAgentAsync(auth.Token, cancellationToken);

        if (caller is null)
        {
            connection.Send(check.Ended
                ? new ErrorFrame(ErrorCodes.AuthenticationExpired, "This device's session has ended; log in again (or start a new visitor session).", false) { RequestId = auth.RequestId }
                : new ErrorFrame(ErrorCodes.Unauthorized, "The token is unknown, expired, or for another deployment.", false) { RequestId = auth.RequestId });
            connection.Close(WebSocketCloseStatus.PolicyViolation, "unauthorized");
            return;
        }

        connection.Caller = caller;
        OnReady(connection);
    }

    private async Task SubmitAsync(RealtimeConnection connection, Caller caller, SendMessageFrame send, CancellationToken cancellationToken)
    {
        await _inFlight.WaitAsync(cancellationToken);
        Task<AppendResult> stored;
        try
        {
            stored = await conversations.SubmitAsync(caller, send.ConversationId, send.ClientMessageId, send.Text, cancellationToken);
        }
        catch
        {
            _inFlight.Release();
            throw;
        }

        Interlocked.Increment(ref _pending);
        _ = AcknowledgeAsync(connection, send, stored);
    }

    private async Task AcknowledgeAsync(RealtimeConnection connection, SendMessageFrame send, Task<AppendResult> stored)
    {
        try
        {
            var result = await stored;
            connection.Send(new AckFrame(send.ConversationId, send.ClientMessageId, result.Message.Seq, result.Message.SentAt, !result.Created)
            {
                RequestId = send.RequestId,
            });
        }
        catch (Exception exception) when (Refusal(exception) is { } refusal)
        {
            connection.Send(ErrorFor(send, refusal));
        }
        catch (Exception exception)
        {
            LogSendFailed(logger, connection.ConnectionId, exception);
            connection.Send(new ErrorFrame("server_error", "The message was not stored.", true)
            {
                RequestId = send.RequestId,
                ConversationId = send.ConversationId,
                ClientMessageId = send.ClientMessageId,
            });
        }
        finally
        {
            _inFlight.Release();
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                Volatile.Read(ref _drained)?.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Waits, at most <see cref="RealtimeOptions.DrainTimeout"/>, for this connection's sends in
    /// flight, so their acknowledgements are queued before it ends.
    /// </summary>
    public async Task DrainAsync(RealtimeConnection connection)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        if (Volatile.Read(ref _pending) == 0)
        {
            return;
        }

        try
        {
            await drained.Task.WaitAsync(options.DrainTimeout, time);
        }
        catch (TimeoutException)
        {
            // Whatever is still in flight is acknowledged to nobody; the client resends it by its client id.
        }
    }

    /// <summary>The connection ended: an agent's console counts as closed (their grace period may start).</summary>
    public void OnClosed()
    {
        if (_countedConsumer is { } consumerId)
        {
            _countedConsumer = null;
            consumerConnections.Close(consumerId);
        }

        if (Interlocked.Exchange(ref _present, null) is { } agent)
        {
            _ = assigner.AgentDisconnectedAsync(agent.TenantId, agent.AgentId);
        }
    }

    public void Dispose()
    {
        _sessionEnd?.Dispose();
        _recheck?.Dispose();
        _inFlight.Dispose();
    }

    /// <summary>
    /// The one place this surface translates failures: an expected refusal keeps its code; an
    /// unavailable database is a retryable <c>storage_unavailable</c>. Anything else is unexpected.
    /// </summary>
    private static ParleyException? Refusal(Exception exception) => exception switch
    {
        ParleyException parley => parley,
        Storage.StorageUnavailableException => ParleyException.StorageUnavailable(),
        Storage.StorageValueRefusedException => ParleyException.ValueRefused(),
        _ => null,
    };

    private static ErrorFrame ErrorFor(InboundFrame frame, ParleyException exception) =>
        new(exception.Code, exception.Message, exception.Retryable)
        {
            RequestId = frame.RequestId,
            ConversationId = frame switch
            {
                SendMessageFrame f => f.ConversationId,
                SubscribeFrame f => f.ConversationId,
                ReceiptFrame f => f.ConversationId,
                TypingFrame f => f.ConversationId,
                CloseConversationFrame f => f.ConversationId,
                ResumeConversationFrame f => f.ConversationId,
                ClearHistoryFrame f => f.ConversationId,
                AcceptConversationFrame f => f.ConversationId,
                AuthenticateConversationFrame f => f.ConversationId,
                _ => null,
            },
            ClientMessageId = (frame as SendMessageFrame)?.ClientMessageId,
        };

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Connection {ConnectionId} ready as {Role} {ParticipantId}")]
    private static partial void LogReady(ILogger logger, Guid connectionId, string role, Guid participantId);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Error, Message = "Connection {ConnectionId}: a send failed unexpectedly")]
    private static partial void LogSendFailed(ILogger logger, Guid connectionId, Exception exception);
}

/// <summary>Builds each connection's dispatcher from the node's services and the realtime options.</summary>
internal sealed class FrameDispatcherFactory(
    ConversationService conversations,
    ILiveFanout fanout,
    CallerAuthenticator authenticator,
    Conversations.MidChatLogin login,
    Routing.AutoAssigner assigner,
    ConsumerConnections consumerConnections,
    Authentication.AuthenticationExpiry expiry,
    Microsoft.Extensions.Options.IOptions<RealtimeOptions> options,
    TimeProvider time)
{
    public FrameDispatcher Create(ILogger logger, ParticipantRole role, Guid? deploymentId) =>
        new(conversations, fanout, authenticator, login, assigner, consumerConnections, expiry, options.Value, time, logger, role, deploymentId);
}
