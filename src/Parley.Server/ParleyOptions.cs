namespace Parley;

/// <summary>The <c>Parley</c> configuration section (see docs/configuration.md).</summary>
public sealed class ParleyOptions
{
    public const string Section = "Parley";

    /// <summary>How long a device's visitor token stays valid.</summary>
    public TimeSpan VisitorSessionLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long an agent stays signed in.</summary>
    public TimeSpan AgentSessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// How long after a logged-in visitor's login ended the device may still renew it on the same
    /// conversation (a fresh token for the same customer); after that it starts again.
    /// </summary>
    public TimeSpan LoginRenewalWindow { get; set; } = TimeSpan.FromHours(12);

    /// <summary>The longest text message accepted, in characters.</summary>
    public int MaxMessageLength { get; set; } = 4000;

    /// <summary>
    /// The address browsers reach Parley at (scheme, host, port, optional path), for the mid-chat
    /// login callback. Unset: the first address Parley listens on.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>How long a login's single-use state stays usable (pre-chat code flow and mid-chat links).</summary>
    public TimeSpan LoginLinkLifetime { get; set; } = TimeSpan.FromMinutes(10);
}
