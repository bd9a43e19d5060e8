using Microsoft.Extensions.Options;
using Parley.Storage;
using Parley.Operations;

namespace Parley.Conversations;

/// <summary>The <c>Parley:Retention</c> section.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Parley:Retention";

    /// <summary>Closed conversations are deleted (messages, receipts, login states) this many days after they closed; null keeps them.</summary>
    public int? ClosedConversationDays { get; set; }

    /// <summary>
    /// Audit events are deleted this many days after they were recorded; null keeps them. Apart
    /// from the conversations' period: an audit trail is usually kept longer than the chats.
    /// </summary>
    public int? AuditDays { get; set; }

    /// <summary>How often the deletion runs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Deletes closed conversations past the retention period, in batches, every
/// <see cref="RetentionOptions.Interval"/>. Safe on several nodes (each batch locks its rows).
/// A conversation resumed before its deletion is open again and kept.
/// </summary>
public sealed partial class Retention(
    IConversationStore conversationStore, IAuditStore auditStore, ISignInThrottleStore signIns, IUsedTokenStore usedTokens,
    TimeProvider time, IOptions<RetentionOptions> options, ILogger<Retention> logger) : BackgroundService
{
    private const int BatchSize = 200;

    /// <summary>One round: every conversation closed before the cut-off, batch after batch. Returns how many were deleted.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var deleted = await DeleteOlderThanAsync(options.Value.ClosedConversationDays, conversationStore.DeleteClosedConversationsAsync, cancellationToken);
        if (deleted > 0)
        {
            LogDeleted(logger, deleted, options.Value.ClosedConversationDays!.Value);
        }

        return deleted;
    }

    /// <summary>One round of the audit log's retention, batch after batch. Returns how many events were deleted.</summary>
    public async Task<int> SweepAuditAsync(CancellationToken cancellationToken)
    {
        var deleted = await DeleteOlderThanAsync(options.Value.AuditDays, auditStore.DeleteAuditEventsAsync, cancellationToken);
        if (deleted > 0)
        {
            LogAuditDeleted(logger, deleted, options.Value.AuditDays!.Value);
        }

        return deleted;
    }

    /// <summary>Deletes, a batch at a time, what is older than <paramref name="days"/> (null: keep everything); how many.</summary>
    private async Task<int> DeleteOlderThanAsync(
        int? days, Func<DateTimeOffset, int, CancellationToken, Task<int>> deleteBatch, CancellationToken cancellationToken)
    {
        if (days is not { } kept)
        {
            return 0;
        }

        var before = time.GetUtcNow().AddDays(-kept);
        var total = 0;
        int deleted;
        do
        {
            deleted = await deleteBatch(before, BatchSize, cancellationToken);
            total += deleted;
        }
        while (deleted == BatchSize);

        return total;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Housekeeping.EveryAsync(options.Value.Interval, time, async cancellationToken =>
        {
            await SweepAsync(cancellationToken);
            await SweepAuditAsync(cancellationToken);
            // Failed sign-ins counted more than a day ago, with no lock left, count no more.
            await signIns.PurgeSignInFailuresAsync(time.GetUtcNow().AddDays(-1), cancellationToken);
            await usedTokens.PurgeUsedTokenIdsAsync(time.GetUtcNow(), cancellationToken);
        }, exception => LogFailed(logger, exception), stoppingToken);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Retention deleted {Count} conversations closed more than {Days} days ago")]
    private static partial void LogDeleted(ILogger logger, int count, int days);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "Retention deleted {Count} audit events recorded more than {Days} days ago")]
    private static partial void LogAuditDeleted(ILogger logger, int count, int days);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Retention could not delete old conversations or audit events")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
