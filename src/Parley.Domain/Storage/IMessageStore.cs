using Parley.Conversations;

namespace Parley.Storage;

/// <summary>A conversation's messages and its participants' receipts.</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface IMessageStore
{
    /// <summary>
    /// Appends messages in one transaction and returns one result per input, in order. A message
    /// whose (conversation, sender, client message id) was stored before is not stored again; its
    /// result carries the original. Sequence numbers are assigned per conversation with no gaps.
    /// When this method returns, every message in the batch is durable.
    /// </summary>
    Task<IReadOnlyList<AppendResult>> AppendMessagesAsync(
        IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken);

    /// <summary>Messages with seq greater than <paramref name="afterSeq"/>, in seq order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<Message>> GetMessagesAsync(
        Guid conversationId, long afterSeq, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Raises a participant's delivered/read marks (never lowers them) and returns the stored receipt.
    /// </summary>
    Task<Receipt> UpsertReceiptAsync(Receipt receipt, CancellationToken cancellationToken);

    /// <summary>Every participant's receipt for a conversation.</summary>
    Task<IReadOnlyList<Receipt>> GetReceiptsAsync(Guid conversationId, CancellationToken cancellationToken);
}
