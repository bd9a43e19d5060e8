using Parley.Conversations;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Parley.Messaging;

/// <summary>Wire shapes shared by the REST API and the WebSocket frames.</summary>
public static class Views
{
    public static string Wire(this ParticipantRole role) => role switch
    {
        ParticipantRole.Consumer => "consumer",
        ParticipantRole.Agent => "agent",
        ParticipantRole.Bot => "bot",
        _ => "system",
    };

    public static MessageView ToView(this Message m) =>
        new(m.ConversationId, m.Seq, m.Kind == MessageKind.Text ? "text" : "event", m.SenderRole.Wire(), m.SenderId, m.ClientMessageId, m.Text, m.SentAt)
        {
            Data = m.Data is null ? null : JsonDocument.Parse(m.Data).RootElement.Clone(),
        };

    public static ReceiptView ToView(this Receipt r) =>
        new(r.ConversationId, r.ParticipantId, r.Role.Wire(), r.DeliveredSeq, r.ReadSeq, r.UpdatedAt);

    /// <summary>What a consumer sees of a conversation: no queue, agent ids or page attributes.</summary>
    public static ConsumerConversationView ToConsumerView(this Conversation c) =>
        new(c.Id, c.Status == ConversationStatus.Open ? "open" : "closed", c.AssignedAgentId is not null, c.LastSeq, c.CreatedAt, c.ClosedAt, c.Authenticated);

    public static AgentConversationView ToAgentView(this Conversation c) =>
        new(c.Id, c.DeploymentId, c.ConsumerId, c.Status == ConversationStatus.Open ? "open" : "closed", c.Queue, c.AssignedAgentId,
            c.LastSeq, c.Attributes, c.CreatedAt, c.UpdatedAt, c.ClosedAt, c.Authenticated, c.BotCase,
            c.Priority, c.RoutingRule, c.QueuedAt, c.FirstResponseAt);
}

/// <summary>A message on the wire. Events (<c>kind: "event"</c>) name themselves in <c>Text</c> and may carry <c>Data</c>.</summary>
public sealed record MessageView(
    Guid ConversationId, long Seq, string Kind, string SenderRole, Guid? SenderId, string? ClientMessageId, string Text, DateTimeOffset SentAt)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Data { get; init; }
}

public sealed record ReceiptView(Guid ConversationId, Guid ParticipantId, string Role, long DeliveredSeq, long ReadSeq, DateTimeOffset UpdatedAt);

public sealed record ConsumerConversationView(
    Guid Id, string Status, bool AgentAssigned, long LastSeq, DateTimeOffset CreatedAt, DateTimeOffset? ClosedAt, bool Authenticated);

public sealed record AgentConversationView(
    Guid Id,
    Guid DeploymentId,
    Guid ConsumerId,
    string Status,
    string? Queue,
    Guid? AssignedAgentId,
    long LastSeq,
    IReadOnlyDictionary<string, string> EngagementAttributes,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ClosedAt,
    bool Authenticated,
    string? BotCase,
    int Priority,
    string? RoutingRule,
    DateTimeOffset? QueuedAt,
    DateTimeOffset? FirstResponseAt);
