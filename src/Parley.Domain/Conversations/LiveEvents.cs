namespace Parley.Conversations;

/// <summary>Something that happened to a conversation, for the connections watching it.</summary>
public abstract record LiveEvent(Guid TenantId, Guid ConversationId);

/// <summary>A message was durably stored.</summary>
public sealed record MessageStored(Guid TenantId, Message Message) : LiveEvent(TenantId, Message.ConversationId);

public sealed record ReceiptChanged(Guid TenantId, Receipt Receipt) : LiveEvent(TenantId, Receipt.ConversationId);

public sealed record TypingChanged(Guid TenantId, Guid ConversationId, Guid ParticipantId, ParticipantRole Role, bool IsTyping)
    : LiveEvent(TenantId, ConversationId);

/// <summary>A conversation was created, assigned, closed or reopened.</summary>
public sealed record ConversationChanged(Conversation Conversation) : LiveEvent(Conversation.TenantId, Conversation.Id);

/// <summary>
/// A session ended before its time (a logout, a cleared history, a revoked login): every connection
/// that holds it, on every node, ends. <see cref="SessionHash"/> null ends all of the participant's
/// sessions. Carries ids and the stored hash only, never a token.
/// </summary>
public sealed record SessionEnded(Guid TenantId, Guid ParticipantId, string? SessionHash, string Reason) : LiveEvent(TenantId, Guid.Empty)
{
    /// <summary>Whether a connection holding <paramref name="sessionHash"/> of <paramref name="participantId"/> must end.</summary>
    public bool Ends(Guid participantId, string sessionHash) =>
        participantId == ParticipantId && (SessionHash is null || SessionHash == sessionHash);
}

/// <summary>A live connection. <see cref="OnEvent"/> must not block: it is called on the publisher's thread.</summary>
public interface ILiveSubscriber
{
    void OnEvent(LiveEvent liveEvent);
}

/// <summary>
/// Delivers live events to the connections that watch a conversation or a tenant. Events carry
/// what happened, never a replacement for storage: a subscriber that misses one catches up by seq.
/// </summary>
public interface ILiveFanout
{
    IDisposable SubscribeConversation(Guid conversationId, ILiveSubscriber subscriber);

    /// <summary>Receives <see cref="ConversationChanged"/> events for all of a tenant's conversations.</summary>
    IDisposable SubscribeTenant(Guid tenantId, ILiveSubscriber subscriber);

    /// <summary>Receives <see cref="SessionEnded"/> events for one consumer or agent.</summary>
    IDisposable SubscribeParticipant(Guid participantId, ILiveSubscriber subscriber);

    void Publish(LiveEvent liveEvent);
}
