using System.Text.Json.Nodes;
using Parley.Conversations;

namespace Parley.Messaging;

/// <summary>
/// The names of the events a conversation's timeline records (messages of kind <c>event</c>, named
/// in <c>text</c>). Clients match on these strings, so they are part of the protocol: add, never rename.
/// </summary>
public static class SystemEvents
{
    /// <summary>Either side closed the conversation.</summary>
    public const string ConversationClosed = "conversation.closed";

    /// <summary>Either side resumed a closed conversation.</summary>
    public const string ConversationResumed = "conversation.resumed";

    /// <summary>The visitor cleared the history: the conversation ended and the device was unlinked.</summary>
    public const string ConversationCleared = "conversation.cleared";

    /// <summary>
    /// A customer's two open conversations became one (a mid-chat login while the customer already had
    /// an open authenticated conversation). In the one that closed, <c>data.into</c> names the one
    /// that continues; in that one, <c>data.from</c> names the closed one and <c>data.messages</c>
    /// counts the copies of its text messages just before this event (each with <c>data.mergedFrom</c>).
    /// </summary>
    public const string ConversationMerged = "conversation.merged";

    /// <summary>The bot passed the conversation to routing; <c>data.case</c> names the case, never the queue.</summary>
    public const string ConversationHandover = "conversation.handover";

    /// <summary>A case needs a login: <c>data</c> has the <c>case</c>, the login link's <c>url</c> and its <c>expiresAt</c>.</summary>
    public const string AuthenticationRequested = "authentication.requested";

    /// <summary>A mid-chat login made the conversation authenticated; <c>data.authenticatedUntil</c>.</summary>
    public const string AuthenticationUpgraded = "authentication.upgraded";

    /// <summary>The customer's login ended; <c>data.expiredAt</c>.</summary>
    public const string AuthenticationExpired = "authentication.expired";

    /// <summary>
    /// The customer logged out: <c>data.scope</c> is <c>device</c> (this device, e.g. <c>Parley.logout()</c>)
    /// or <c>everywhere</c> (at the brand's identity provider, back-channel logout); <c>data.at</c>.
    /// </summary>
    public const string AuthenticationLoggedOut = "authentication.logged_out";
}

/// <summary>One event for a conversation's timeline: its name, who caused it, and its data.</summary>
public sealed record SystemEvent(string Name, ParticipantRole By, Guid? ById = null, JsonObject? Data = null)
{
    /// <summary>An event Parley itself records (a login's upgrade or end).</summary>
    public static SystemEvent OfSystem(string name, JsonObject? data = null) => new(name, ParticipantRole.System, null, data);

    /// <summary>An event the deployment's bot records.</summary>
    public static SystemEvent OfBot(string name, JsonObject? data = null) => new(name, ParticipantRole.Bot, null, data);
}
