using Parley.Tenants;

namespace Parley.Security;

/// <summary>Which browser origins may use a deployment's messenger.</summary>
public static class MessengerOrigins
{
    /// <summary>
    /// The deployment's allowed origins, and Parley's own origin, where the messenger's separate
    /// window (<c>/messenger/{deploymentId}</c>) runs.
    /// </summary>
    public static bool AllowsMessengerFrom(this Deployment deployment, HttpRequest request, string origin) =>
        deployment.AllowsOrigin(origin) || IsSameOrigin(request, origin);

    /// <summary>True when <paramref name="origin"/> is the origin the request was addressed to.</summary>
    public static bool IsSameOrigin(HttpRequest request, string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
}
