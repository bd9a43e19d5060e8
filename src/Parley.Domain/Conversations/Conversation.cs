namespace Parley.Conversations;

public enum ConversationStatus
{
    Open,
    Closed,
}

public enum ParticipantRole
{
    Consumer,
    Agent,
    Bot,
    System,
}

/// <summary>
/// A conversation between one consumer and the brand. <see cref="LastSeq"/> is the sequence
/// number of its newest message; sequence numbers start at 1 and increase by one per message.
/// <see cref="Authenticated"/> is true once it belongs to an authenticated consumer (from the
/// start, or upgraded mid-chat); <see cref="BotCase"/> is the bot case it was last about.
/// Routing puts it in <see cref="Queue"/> with <see cref="Priority"/> (higher first) by
/// <see cref="RoutingRule"/> (null: the default queue); <see cref="QueuedAt"/> is when it started
/// waiting for an agent (it keeps its place when re-routed) and <see cref="FirstResponseAt"/> when
/// an agent first wrote. <see cref="RoutedUntil"/> is when the login its routing relied on
/// expires: it is routed again then.
/// </summary>
public sealed record Conversation(
    Guid Id,
    Guid TenantId,
    Guid DeploymentId,
    Guid ConsumerId,
    ConversationStatus Status,
    string? Queue,
    Guid? AssignedAgentId,
    long LastSeq,
    EngagementAttributes Attributes,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ClosedAt,
    bool Authenticated = false,
    string? BotCase = null,
    int Priority = 0,
    string? RoutingRule = null,
    DateTimeOffset? QueuedAt = null,
    DateTimeOffset? FirstResponseAt = null,
    DateTimeOffset? RoutedUntil = null)
{
    /// <summary>Open, unassigned and in a queue: an agent should pick it up.</summary>
    public bool IsWaiting => IsOpen && AssignedAgentId is null && Queue is not null;

    public bool IsOpen => Status == ConversationStatus.Open;
}

/// <summary>Whether a stored message is text someone wrote or an event Parley recorded.</summary>
public enum MessageKind
{
    Text,
    Event,
}

/// <summary>
/// A stored message. For <see cref="MessageKind.Event"/> messages, <see cref="Text"/> holds the
/// event name (for example <c>conversation.closed</c>) and <see cref="Data"/> its details as a
/// JSON object, when it has any.
/// </summary>
public sealed record Message(
    Guid ConversationId,
    long Seq,
    MessageKind Kind,
    ParticipantRole SenderRole,
    Guid? SenderId,
    string? ClientMessageId,
    string Text,
    DateTimeOffset SentAt,
    string? Data = null);

/// <summary>
/// A message to append; the store assigns its sequence number. With a <see cref="Guard"/>, the
/// store checks in the append's own transaction that the sender may write to the conversation.
/// </summary>
public sealed record NewMessage(
    Guid ConversationId,
    MessageKind Kind,
    ParticipantRole SenderRole,
    Guid? SenderId,
    string? ClientMessageId,
    string Text,
    DateTimeOffset SentAt,
    string? Data = null,
    AppendGuard? Guard = null);

/// <summary>
/// Who sends a message, checked against the conversation as stored when the message is appended
/// (under the conversation's lock): a conversation of another tenant, or a consumer's conversation
/// that is not theirs, is <see cref="AppendRefusal.NotFound"/>; a closed one is
/// <see cref="AppendRefusal.Closed"/>; an agent must be the assigned one
/// (<see cref="AppendRefusal.NotAssigned"/>). A repeated client message id returns the original
/// even when the conversation has been closed since.
/// </summary>
public sealed record AppendGuard(Guid TenantId, Guid? ConsumerId = null, Guid? AgentId = null);

/// <summary>Why a guarded message was not appended.</summary>
public enum AppendRefusal
{
    NotFound,
    Closed,
    NotAssigned,
}

/// <summary>
/// The outcome of appending one message: the stored message, and whether it was stored by this
/// call (<c>false</c> means the client message id had been stored before and this is the original).
/// When its guard refused the message, <see cref="Refusal"/> says why, nothing was stored and
/// <see cref="Message"/> is the message as submitted, with seq 0.
/// </summary>
public sealed record AppendResult(Message Message, bool Created, AppendRefusal? Refusal = null);

/// <summary>How far one participant has received and read a conversation.</summary>
public sealed record Receipt(
    Guid ConversationId,
    Guid ParticipantId,
    ParticipantRole Role,
    long DeliveredSeq,
    long ReadSeq,
    DateTimeOffset UpdatedAt);
