using Parley.Conversations;

namespace Parley.Storage;

/// <summary>An agent with open conversations and no live console connection, since <see cref="Since"/>.</summary>
public sealed record AgentAway(Guid AgentId, Guid TenantId, DateTimeOffset Since);

/// <summary>What became of an assignment.</summary>
public enum AssignOutcome
{
    Assigned,

    /// <summary>The conversation is closed, missing, or another agent has it.</summary>
    Taken,

    /// <summary>The agent already holds as many open conversations as their capacity (or is unknown).</summary>
    AtCapacity,

    /// <summary>No conversation is waiting in the agent's queues.</summary>
    NoneWaiting,
}

/// <summary>The outcome of taking the next conversation, and which one it was when assigned.</summary>
public sealed record TakeResult(AssignOutcome Outcome, Guid? ConversationId);

/// <summary>What became of moving a conversation to the consumer who logged in.</summary>
public enum TransferOutcome
{
    Transferred,

    /// <summary>The conversation is missing or not the given consumer's.</summary>
    NotOwned,

    /// <summary>The consumer it would move to already has an open conversation on the deployment.</summary>
    CustomerHasOpen,
}

/// <summary>
/// A merge: the copies appended to the surviving conversation, in seq order, and the agent it got
/// from the merged one (null when it kept its own or neither had one).
/// </summary>
public sealed record MergeResult(IReadOnlyList<Message> Copied, Guid? AgentMoved);

/// <summary>One queue's figures. Waits are measured from <see cref="Conversation.QueuedAt"/>.</summary>
public sealed record QueueStatistics(
    Guid TenantId,
    string Queue,
    int Waiting,
    DateTimeOffset? OldestQueuedAt,
    int Responded,
    double? AverageFirstResponseMilliseconds);

/// <summary>The database cannot be reached or refuses writes. Retryable.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null)
    : Exception(message, inner);

/// <summary>
/// The database refused a value it cannot hold (PostgreSQL's data exceptions, SQLSTATE class 22).
/// Carries the SQLSTATE only: the provider's message may quote the value, and so the visitor's data.
/// Retrying the same value fails the same way.
/// </summary>
public sealed class StorageValueRefusedException(string sqlState)
    : Exception($"The database refused a value (SQLSTATE {sqlState}).")
{
    public string SqlState { get; } = sqlState;
}

/// <summary>A unique key is already taken.</summary>
public sealed class DuplicateKeyException(string message, Exception? inner = null)
    : Exception(message, inner);
