using Parley.Conversations;

namespace Parley.Storage;

/// <summary>Conversations: their lifecycle, owner, facts and retention.</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface IConversationStore
{
    /// <summary>
    /// Stores a new conversation (its <see cref="Conversation.LastSeq"/> must be 0). Returns false,
    /// storing nothing, when its consumer already has an open conversation on its deployment: a
    /// consumer has at most one open conversation per deployment, whatever the nodes and devices.
    /// </summary>
    Task<bool> CreateConversationAsync(Conversation conversation, CancellationToken cancellationToken);

    /// <summary>A conversation by id, or null.</summary>
    Task<Conversation?> GetConversationAsync(Guid conversationId, CancellationToken cancellationToken);

    /// <summary>A consumer's conversations, newest first.</summary>
    Task<IReadOnlyList<Conversation>> ListConversationsByConsumerAsync(
        Guid consumerId, CancellationToken cancellationToken);

    /// <summary>A tenant's conversations, optionally only those with <paramref name="status"/>, oldest first.</summary>
    Task<IReadOnlyList<Conversation>> ListConversationsByTenantAsync(
        Guid tenantId, ConversationStatus? status, int limit, CancellationToken cancellationToken);

    /// <summary>A tenant's conversations that match every filter of <paramref name="search"/>, newest first.</summary>
    Task<IReadOnlyList<Conversation>> SearchConversationsAsync(
        Guid tenantId, ConversationSearch search, CancellationToken cancellationToken);

    /// <summary>
    /// Opens or closes a conversation. Returns false, changing nothing, when it already had that status.
    /// Closing unassigns it.
    /// </summary>
    Task<bool> SetConversationStatusAsync(
        Guid conversationId, ConversationStatus status, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a conversation, with its history, from one consumer to another (a mid-chat login); the
    /// device's receipt becomes the new consumer's. Changes nothing when it does not belong to
    /// <paramref name="fromConsumerId"/>, or when it is open and <paramref name="toConsumerId"/>
    /// already has an open conversation on its deployment (then merge it into that one).
    /// </summary>
    Task<TransferOutcome> TransferConversationAsync(
        Guid conversationId, Guid fromConsumerId, Guid toConsumerId, bool authenticated, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Merges an open conversation of <paramref name="fromConsumerId"/> into another open
    /// conversation on the same deployment, in one transaction: <paramref name="fromId"/> closes,
    /// copies of its text messages are appended to <paramref name="intoId"/> (in their order, with
    /// their senders and times, and <c>data.mergedFrom</c> naming where they came from), and when
    /// <paramref name="intoId"/> has no agent it gets the one of <paramref name="fromId"/>.
    /// Null, changing nothing, when either is closed or missing, <paramref name="fromId"/> is not
    /// the consumer's, or they are on different deployments.
    /// </summary>
    Task<MergeResult?> MergeConversationAsync(
        Guid fromId, Guid fromConsumerId, Guid intoId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records the bot case a conversation is about.</summary>
    Task SetConversationBotCaseAsync(Guid conversationId, string? botCase, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Replaces a conversation's engagement attributes.</summary>
    Task SetEngagementAttributesAsync(
        Guid conversationId, EngagementAttributes attributes, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Retention: deletes up to <paramref name="limit"/> conversations closed before
    /// <paramref name="closedBefore"/>, with their messages, receipts and login states. Returns how many.
    /// </summary>
    Task<int> DeleteClosedConversationsAsync(DateTimeOffset closedBefore, int limit, CancellationToken cancellationToken);
}
