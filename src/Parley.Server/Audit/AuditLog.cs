using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Security;
using Parley.Storage;

namespace Parley.Audit;

/// <summary>
/// Writes audit events (docs/security.md). Recording never decides the outcome of what it records:
/// if the database refuses the event, the action stands and the failure is logged (event 9001),
/// without the event's content.
/// </summary>
public sealed partial class AuditLog(IParleyStore store, TimeProvider time, ILogger<AuditLog> logger)
{
    public async Task RecordAsync(
        Guid tenantId, string kind, string outcome, Caller? actor,
        Guid? deploymentId = null, Guid? conversationId = null, string? subject = null, string? reason = null, string? detail = null)
    {
        var auditEvent = new AuditEvent(
            Guid.NewGuid(), tenantId, time.GetUtcNow(), kind, outcome,
            actor switch { AgentCaller => "agent", ConsumerCaller => "consumer", _ => "visitor" },
            actor?.ParticipantId, deploymentId, conversationId, Truncate(subject, 200), Truncate(reason, 100), Truncate(detail, 500));
        try
        {
            await store.AppendAuditEventAsync(auditEvent, CancellationToken.None);
        }
        catch (Exception exception) when (exception is StorageUnavailableException or InvalidOperationException or System.Data.Common.DbException)
        {
            LogNotRecorded(logger, kind, tenantId, exception.GetType().Name);
        }
    }

    /// <summary>An admin's change to the tenant's configuration.</summary>
    public Task ChangedAsync(HttpContext context, string kind, Guid? deploymentId = null, string? detail = null)
    {
        var admin = context.Caller<AgentCaller>();
        return RecordAsync(admin.TenantId, kind, AuditEvent.Succeeded, admin, deploymentId, detail: detail);
    }

    private static string? Truncate(string? value, int length) => value is { Length: > 0 } && value.Length > length ? value[..length] : value;

    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Audit event {Kind} of tenant {TenantId} was not recorded: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string kind, Guid tenantId, string error);
}

public sealed record AuditPage(IReadOnlyList<AuditEvent> Items, DateTimeOffset? NextBefore);

public static class AuditApi
{
    public static IServiceCollection AddAudit(this IServiceCollection services) => services.AddSingleton<AuditLog>();

    /// <summary><c>GET /api/v1/admin/audit?kind=&amp;before=&amp;limit=</c>: the tenant's events, newest first.</summary>
    public static WebApplication MapAuditApi(this WebApplication app)
    {
        app.MapGet("/api/v1/admin/audit", ListAsync).RequireAuthorization(CallerSchemes.Admin);
        return app;
    }

    private static async Task<Ok<AuditPage>> ListAsync(
        string? kind, DateTimeOffset? before, int? limit, HttpContext context, IParleyStore store, CancellationToken cancellationToken)
    {
        var size = Math.Clamp(limit ?? 100, 1, 500);
        var items = await store.ListAuditEventsAsync(context.Caller<AgentCaller>().TenantId, kind, before, size, cancellationToken);
        return TypedResults.Ok(new AuditPage(items, items.Count == size ? items[^1].At : null));
    }
}
