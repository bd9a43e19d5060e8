using Parley.Audit;

namespace Parley.Storage;

/// <summary>The audit log.</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface IAuditStore
{
    /// <summary>Appends these events in one transaction: all are stored or none.</summary>
    Task AppendAuditEventsAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken);

    /// <summary>A tenant's audit events, newest first, before a time, optionally of one kind.</summary>
    Task<IReadOnlyList<AuditEvent>> ListAuditEventsAsync(Guid tenantId, string? kind, DateTimeOffset? before, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes up to <paramref name="limit"/> events recorded before <paramref name="before"/> (the audit log's retention); returns how many.</summary>
    Task<int> DeleteAuditEventsAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken);
}
