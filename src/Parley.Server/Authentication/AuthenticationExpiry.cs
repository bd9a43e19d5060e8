using Parley.Messaging;
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Parley.Conversations;
using Parley.Security;
using Parley.Storage;

namespace Parley.Authentication;

/// <summary>
/// What happens when a logged-in visitor's device session ends (its authentication expired): the
/// audit log records it, and each of the visitor's open authenticated conversations on that
/// deployment gets an <c>authentication.expired</c> event, so agents see it in the conversation.
/// Once per device session on this node, however many of its sockets were open; anonymous
/// sessions, and sessions of a visitor who has logged in again since, record nothing.
/// </summary>
public sealed partial class AuthenticationExpiry(
    IConsumerStore consumerStore, IConversationStore conversationStore, ConversationLifecycle lifecycle, Audit.AuditLog audit, ILogger<AuthenticationExpiry> logger)
{
    private readonly ConcurrentDictionary<string, byte> _ended = new();

    public async Task OnSessionEndedAsync(ConsumerCaller consumer)
    {
        if (_ended.Count > 100_000)
        {
            _ended.Clear(); // a bound, not a correctness matter: at worst an expiry is recorded twice
        }

        if (!_ended.TryAdd(consumer.SessionHash, 0))
        {
            return;
        }

        try
        {
            if (await consumerStore.GetConsumerAsync(consumer.ConsumerId, CancellationToken.None) is not { IsAuthenticated: true }
                || await consumerStore.GetVerifiedIdentityAsync(consumer.ConsumerId, CancellationToken.None) is not { } identity
                || identity.AuthenticatedUntil > consumer.SessionExpiresAt)
            {
                return; // anonymous, or logged in again since: the identity is still current
            }

            await audit.RecordAsync(consumer.TenantId, Audit.AuditKinds.LoginExpired, Audit.AuditEvent.Succeeded, consumer, consumer.DeploymentId,
                subject: identity.Subject, detail: $"the login ended at {consumer.SessionExpiresAt:O}");
            var open = (await conversationStore.ListConversationsByConsumerAsync(consumer.ConsumerId, CancellationToken.None))
                .Where(c => c is { Status: ConversationStatus.Open, Authenticated: true } && c.DeploymentId == consumer.DeploymentId);
            foreach (var conversation in open)
            {
                await lifecycle.RecordAsync(conversation, SystemEvent.OfSystem(SystemEvents.AuthenticationExpired,
                    new JsonObject { ["expiredAt"] = consumer.SessionExpiresAt.ToString("O") }), CancellationToken.None);
            }
        }
        catch (Exception exception) when (exception is StorageUnavailableException or InvalidOperationException or System.Data.Common.DbException)
        {
            LogNotRecorded(logger, consumer.TenantId, exception.GetType().Name);
        }
    }

    [LoggerMessage(EventId = 5301, Level = LogLevel.Warning, Message = "The end of a login in tenant {TenantId} was not recorded: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, Guid tenantId, string error);
}
