using Parley.Messaging;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Parley.Realtime;

/// <summary>
/// A frame a client sends. The <c>type</c> member selects the record; <c>requestId</c>, when
/// given, is echoed on the reply or error so clients can match them. See docs/protocol.md.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(AuthFrame), "auth")]
[JsonDerivedType(typeof(PingFrame), "ping")]
[JsonDerivedType(typeof(StartConversationFrame), "conversation.start")]
[JsonDerivedType(typeof(SubscribeFrame), "conversation.subscribe")]
[JsonDerivedType(typeof(SendMessageFrame), "message.send")]
[JsonDerivedType(typeof(ReceiptFrame), "receipt")]
[JsonDerivedType(typeof(TypingFrame), "typing")]
[JsonDerivedType(typeof(CloseConversationFrame), "conversation.close")]
[JsonDerivedType(typeof(ResumeConversationFrame), "conversation.resume")]
[JsonDerivedType(typeof(ClearHistoryFrame), "history.clear")]
[JsonDerivedType(typeof(AcceptConversationFrame), "conversation.accept")]
[JsonDerivedType(typeof(ListConversationsFrame), "conversations.list")]
[JsonDerivedType(typeof(AuthenticateConversationFrame), "conversation.authenticate")]
public abstract record InboundFrame
{
    public string? RequestId { get; init; }

    /// <summary>Each frame record's <c>type</c>, read from the attributes above so the two cannot drift apart.</summary>
    private static readonly Dictionary<Type, string> Names = typeof(InboundFrame)
        .GetCustomAttributes(typeof(JsonDerivedTypeAttribute), inherit: false)
        .Cast<JsonDerivedTypeAttribute>()
        .ToDictionary(a => a.DerivedType, a => (string)a.TypeDiscriminator!);

    /// <summary>Every known <c>type</c>.</summary>
    public static readonly IReadOnlySet<string> Types = Names.Values.ToHashSet(StringComparer.Ordinal);

    /// <summary>This frame's <c>type</c> (for metrics and traces: a name from a fixed list, never client text).</summary>
    [JsonIgnore]
    public string Name => Names.TryGetValue(GetType(), out var name) ? name : "unknown";
}

public sealed record AuthFrame([property: JsonRequired] string Token) : InboundFrame;

public sealed record PingFrame : InboundFrame;

public sealed record StartConversationFrame(Dictionary<string, string>? Attributes) : InboundFrame;

public sealed record SubscribeFrame([property: JsonRequired] Guid ConversationId, long Since) : InboundFrame;

public sealed record SendMessageFrame(
    [property: JsonRequired] Guid ConversationId,
    [property: JsonRequired] string ClientMessageId,
    [property: JsonRequired] string Text) : InboundFrame;

public sealed record ReceiptFrame([property: JsonRequired] Guid ConversationId, long DeliveredSeq, long ReadSeq) : InboundFrame;

public sealed record TypingFrame([property: JsonRequired] Guid ConversationId, bool IsTyping) : InboundFrame;

public sealed record CloseConversationFrame([property: JsonRequired] Guid ConversationId) : InboundFrame;

public sealed record ResumeConversationFrame([property: JsonRequired] Guid ConversationId) : InboundFrame;

public sealed record ClearHistoryFrame([property: JsonRequired] Guid ConversationId) : InboundFrame;

public sealed record AcceptConversationFrame([property: JsonRequired] Guid ConversationId) : InboundFrame;

public sealed record ListConversationsFrame(string? Status) : InboundFrame;

/// <summary>A mid-chat login's result (see <c>POST /api/v1/consumer/conversations/{id}/authenticate</c>).</summary>
public sealed record AuthenticateConversationFrame(
    [property: JsonRequired] Guid ConversationId, string? State, string? Code, string? Jwt, string? Assertion) : InboundFrame;

/// <summary>A frame the server sends.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ReadyFrame), "ready")]
[JsonDerivedType(typeof(PongFrame), "pong")]
[JsonDerivedType(typeof(ErrorFrame), "error")]
[JsonDerivedType(typeof(ConsumerConversationFrame), "conversation")]
[JsonDerivedType(typeof(AgentConversationFrame), "conversation.updated")]
[JsonDerivedType(typeof(ConversationListFrame), "conversations")]
[JsonDerivedType(typeof(SubscribedFrame), "subscribed")]
[JsonDerivedType(typeof(MessageFrame), "message")]
[JsonDerivedType(typeof(AckFrame), "message.ack")]
[JsonDerivedType(typeof(ReceiptUpdatedFrame), "receipt")]
[JsonDerivedType(typeof(TypingUpdatedFrame), "typing")]
[JsonDerivedType(typeof(HistoryClearedFrame), "history.cleared")]
[JsonDerivedType(typeof(SessionFrame), "session")]
[JsonDerivedType(typeof(AuthExpiredFrame), "auth.expired")]
public abstract record OutboundFrame
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RequestId { get; init; }
}

public sealed record ReadyFrame(string Role, Guid ParticipantId, Guid TenantId) : OutboundFrame;

public sealed record PongFrame : OutboundFrame;

public sealed record ErrorFrame(string Code, string Message, bool Retryable) : OutboundFrame
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Guid? ConversationId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClientMessageId { get; init; }
}

/// <summary>A conversation as the consumer sees it (reply to start, close, resume; and on changes).</summary>
public sealed record ConsumerConversationFrame(ConsumerConversationView Conversation) : OutboundFrame;

/// <summary>A conversation of the agent's tenant was created or changed.</summary>
public sealed record AgentConversationFrame(AgentConversationView Conversation) : OutboundFrame;

public sealed record ConversationListFrame(IReadOnlyList<AgentConversationView> Items) : OutboundFrame;

/// <summary>Replay after <c>conversation.subscribe</c> is complete; live messages follow.</summary>
public sealed record SubscribedFrame(Guid ConversationId, long Since, long LastSeq) : OutboundFrame;

public sealed record MessageFrame(MessageView Message) : OutboundFrame;

/// <summary>The message is durably stored. <c>Duplicate</c> means it had been stored before.</summary>
public sealed record AckFrame(Guid ConversationId, string ClientMessageId, long Seq, DateTimeOffset SentAt, bool Duplicate) : OutboundFrame;

public sealed record ReceiptUpdatedFrame(ReceiptView Receipt) : OutboundFrame;

public sealed record TypingUpdatedFrame(Guid ConversationId, Guid ParticipantId, string Role, bool IsTyping) : OutboundFrame;

public sealed record HistoryClearedFrame(Guid ConversationId) : OutboundFrame;

/// <summary>
/// The connection now acts for a new device session (after a mid-chat login): the client keeps
/// <c>VisitorToken</c> for reconnecting; this connection already uses it.
/// </summary>
public sealed record SessionFrame(string VisitorToken, Guid ConsumerId, bool Authenticated, DateTimeOffset ExpiresAt, ConsumerConversationView Conversation)
    : OutboundFrame;

/// <summary>The device's session ended (for a logged-in visitor: the authentication expired). Log in again to keep sending.</summary>
public sealed record AuthExpiredFrame(DateTimeOffset ExpiredAt) : OutboundFrame;

[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    AllowOutOfOrderMetadataProperties = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(InboundFrame))]
[JsonSerializable(typeof(OutboundFrame))]
internal sealed partial class FrameJsonContext : JsonSerializerContext;
