namespace Parley.Tenants;

/// <summary>A brand: the unit of isolation. Nothing of one tenant is visible to another.</summary>
public sealed record Tenant(Guid Id, string Name, DateTimeOffset CreatedAt);

/// <summary>
/// A messenger configuration a brand embeds on its sites. Browser connections are accepted only
/// from <see cref="AllowedOrigins"/> (exact scheme://host[:port] matches). <see cref="Bot"/> is its
/// bot (greeting and cases), if it has one; <see cref="Messenger"/> how its messenger opens (null: the defaults).
/// </summary>
public sealed record Deployment(
    Guid Id,
    Guid TenantId,
    string Name,
    IReadOnlyList<string> AllowedOrigins,
    DateTimeOffset CreatedAt,
    Guid? AuthenticationSettingsId = null,
    Bots.BotSettings? Bot = null,
    MessengerSettings? Messenger = null)
{
    /// <summary>True when a browser request from <paramref name="origin"/> may use this deployment.</summary>
    public bool AllowsOrigin(string origin) =>
        AllowedOrigins.Any(allowed => string.Equals(allowed, origin, StringComparison.OrdinalIgnoreCase));
}
