namespace Parley.Audit;

/// <summary>
/// One security-relevant event of a tenant: a login that succeeded or was refused, a device that
/// cleared its history, an admin's change. It names who and what, never a token, a secret or a
/// message body: <see cref="Reason"/> is a check name or an error code, <see cref="Detail"/> a
/// short description written by Parley.
/// </summary>
public sealed record AuditEvent(
    Guid Id,
    Guid TenantId,
    DateTimeOffset At,
    string Kind,
    string Outcome,
    string ActorType,
    Guid? ActorId,
    Guid? DeploymentId = null,
    Guid? ConversationId = null,
    string? Subject = null,
    string? Reason = null,
    string? Detail = null)
{
    public const string Succeeded = "success";
    public const string Refused = "refused";
}

/// <summary>The kinds of audit events.</summary>
public static class AuditKinds
{
    public const string Login = "authentication.login";
    public const string MidChatLogin = "authentication.upgrade";
    public const string LoginExpired = "authentication.expired";
    public const string HistoryCleared = "history.cleared";
    public const string SettingsCreated = "settings.created";
    public const string SettingsUpdated = "settings.updated";
    public const string SettingsDeleted = "settings.deleted";
    public const string SettingsAttached = "settings.attached";
    public const string BotChanged = "bot.changed";
    public const string RoutingChanged = "routing.changed";
    public const string MessengerChanged = "messenger.changed";
    public const string DeploymentCreated = "deployment.created";
    public const string DeploymentChanged = "deployment.changed";
    public const string AgentCreated = "agent.created";
    public const string AdminOverride = "conversation.admin_override";
    public const string AgentSignIn = "agent.sign_in";
    public const string Logout = "authentication.logout";
}
