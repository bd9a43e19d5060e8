namespace Parley.Conversations;

/// <summary>
/// Filters for finding a tenant's conversations; every filter given must match.
/// <c>Consumer</c> is a consumer id, a verified subject, or part of a verified claim (name, email…);
/// <c>Text</c> is part of a text message (case-insensitive); the attribute filter is one engagement
/// attribute's value (case-insensitive); <c>From</c>/<c>To</c> bound the creation time (To exclusive);
/// <c>AssignedAgentId</c> is the agent who holds it.
/// </summary>
public sealed record ConversationSearch(
    string? Consumer = null,
    string? Text = null,
    string? AttributeName = null,
    string? AttributeValue = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    ConversationStatus? Status = null,
    int Limit = 50,
    Guid? AssignedAgentId = null);
