using System.Text.Json.Serialization;

namespace Parley.Tenants;

/// <summary>Where the messenger opens on the brand's page.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WindowMode>))]
public enum WindowMode
{
    /// <summary>A window inside the brand's page (Shadow DOM); mid-chat logins open in a popup.</summary>
    [JsonStringEnumMemberName("embedded")]
    Embedded,

    /// <summary>A separate browser window on Parley's origin; mid-chat logins redirect that window.</summary>
    [JsonStringEnumMemberName("window")]
    Window,
}

/// <summary>How a deployment's messenger looks and opens. The defaults are used when a deployment has none.</summary>
public sealed record MessengerSettings
{
    public const int MaxTitleLength = 80;

    public WindowMode WindowMode { get; init; } = WindowMode.Embedded;

    /// <summary>The messenger's heading, shown to visitors; the deployment's name when empty.</summary>
    public string? Title { get; init; }

    /// <summary>
    /// Only logged-in visitors may chat (Genesys: "allows only authenticated users to start"):
    /// anonymous sessions are refused with <c>authentication_required</c>, and the widget shows its
    /// launcher on logged-in pages only. Needs authentication settings on the deployment.
    /// </summary>
    public bool AuthenticatedOnly { get; init; }

    /// <summary>Null when the settings are usable; otherwise what is wrong.</summary>
    public string? Validate() =>
        !Enum.IsDefined(WindowMode) ? "windowMode must be \"embedded\" or \"window\"."
        : Title is { Length: > MaxTitleLength } ? $"title is longer than {MaxTitleLength} characters."
        : Title is not null && Title.Any(char.IsControl) ? "title may not contain control characters."
        : null;
}
