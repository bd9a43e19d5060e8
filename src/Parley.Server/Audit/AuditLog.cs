using System.Threading.Channels;
using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Security;
using Parley.Storage;

namespace Parley.Audit;

/// <summary>
/// Writes audit events (docs/security.md). Recording never decides the outcome of what it records:
/// if the database refuses the event, the action stands and the failure is logged (event 9001),
/// without the event's content.
/// </summary>
/// <remarks>
/// Events recorded at the same time are committed together (one transaction, one sync to disk), by
/// one writer: a burst of logins, or a flood of refused ones, costs one commit per batch instead of
/// one per event. <see cref="RecordAsync"/> still completes only once its event is stored.
/// </remarks>
public sealed partial class AuditLog : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private readonly IAuditStore _auditStore;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditLog> _logger;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    private readonly Operations.ParleyMetrics? _metrics;

    public AuditLog(IAuditStore auditStore, TimeProvider time, ILogger<AuditLog> logger, Operations.ParleyMetrics? metrics = null)
    {
        _metrics = metrics;
        _auditStore = auditStore;
        _time = time;
        _logger = logger;
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Records an event; completes once it is stored (or its failure logged).</summary>
    public Task RecordAsync(
        Guid tenantId, string kind, string outcome, Caller? actor,
        Guid? deploymentId = null, Guid? conversationId = null, string? subject = null, string? reason = null, string? detail = null)
    {
        var auditEvent = new AuditEvent(
            Guid.NewGuid(), tenantId, _time.GetUtcNow(), kind, outcome,
            actor switch { AgentCaller => "agent", ConsumerCaller => "consumer", _ => "visitor" },
            actor?.ParticipantId, deploymentId, conversationId, Truncate(subject, 200), Truncate(reason, 100), Truncate(detail, 500));
        if (kind is AuditKinds.Login or AuditKinds.MidChatLogin)
        {
            // Every visitor login is audited, accepted or refused: counted here, once, by outcome and failed check.
            _metrics?.Login(kind == AuditKinds.Login ? "pre-chat" : "mid-chat", outcome == AuditEvent.Succeeded, reason);
        }

        var pending = new Pending(auditEvent, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            LogNotRecorded(_logger, kind, tenantId, "ShuttingDown");
            return Task.CompletedTask;
        }

        return pending.Stored.Task;
    }

    /// <summary>An admin's change to the tenant's configuration.</summary>
    public Task ChangedAsync(HttpContext context, string kind, Guid? deploymentId = null, string? detail = null)
    {
        var admin = context.Caller<AgentCaller>();
        return RecordAsync(admin.TenantId, kind, AuditEvent.Succeeded, admin, deploymentId, detail: detail);
    }

    /// <summary>Stores what is queued, as many events per transaction as are waiting (up to <see cref="MaxBatch"/>).</summary>
    private async Task WriteAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            if (await AppendAsync(batch) is { } failure)
            {
                if (batch.Count > 1 && failure is not StorageUnavailableException)
                {
                    // One event the database refuses must not cost the others theirs.
                    foreach (var pending in batch)
                    {
                        NotRecorded([pending], await AppendAsync([pending]));
                    }
                }
                else
                {
                    NotRecorded(batch, failure);
                }
            }

            foreach (var pending in batch)
            {
                pending.Stored.TrySetResult();
            }

            batch.Clear();
        }
    }

    /// <summary>Stores the batch in one transaction; the failure, if any.</summary>
    private async Task<Exception?> AppendAsync(List<Pending> batch)
    {
        try
        {
            await _auditStore.AppendAuditEventsAsync([.. batch.Select(p => p.Event)], CancellationToken.None);
            return null;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Whatever the failure, the writer goes on: a caller waiting on its event is never left hanging.
            return exception;
        }
    }

    private void NotRecorded(List<Pending> batch, Exception? failure)
    {
        if (failure is null)
        {
            return;
        }

        foreach (var pending in batch)
        {
            LogNotRecorded(_logger, pending.Event.Kind, pending.Event.TenantId, failure.GetType().Name);
        }
    }

    /// <summary>Stores what was recorded before the server stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }

    private static string? Truncate(string? value, int length) => value is { Length: > 0 } && value.Length > length ? value[..length] : value;

    private sealed record Pending(AuditEvent Event, TaskCompletionSource Stored);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Audit event {Kind} of tenant {TenantId} was not recorded: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string kind, Guid tenantId, string error);
}

public sealed record AuditPage(IReadOnlyList<AuditEvent> Items, DateTimeOffset? NextBefore);

public static class AuditApi
{
    public static IServiceCollection AddAudit(this IServiceCollection services) => services.AddSingleton<AuditLog>();

    /// <summary><c>GET /api/v1/admin/audit?kind=&amp;before=&amp;limit=</c>: the tenant's events, newest first.</summary>
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/admin/audit", ListAsync).RequireAuthorization(CallerSchemes.Admin);
        return app;
    }

    private static async Task<Ok<AuditPage>> ListAsync(
        string? kind, DateTimeOffset? before, int? limit, HttpContext context, IAuditStore auditStore, CancellationToken cancellationToken)
    {
        var size = Math.Clamp(limit ?? 100, 1, 500);
        var items = await auditStore.ListAuditEventsAsync(context.Caller<AgentCaller>().TenantId, kind, before, size, cancellationToken);
        return TypedResults.Ok(new AuditPage(items, items.Count == size ? items[^1].At : null));
    }
}
