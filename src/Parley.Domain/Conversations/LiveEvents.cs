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

    void Publish(LiveEvent liveEvent);
}
