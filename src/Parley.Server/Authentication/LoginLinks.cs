using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Parley.Conversations;
using Parley.Identity.Jose;
using Parley.Identity.Keys;
using Parley.Operations;
using Parley.Security;
using Parley.Storage;

namespace Parley.Authentication;

/// <summary>A login link for one conversation: the brand's authorization URL and when its state expires.</summary>
public sealed record LoginLink(string Url, DateTimeOffset ExpiresAt);

/// <summary>
/// Builds mid-chat login links: the brand's authorization endpoint with Parley's client id, the
/// callback <c>/auth/callback</c> as redirect URI, a single-use state bound to the conversation and
/// to the consumer who asked, a nonce, and (code flow) a PKCE challenge.
/// </summary>
public sealed class LoginLinks(
    IParleyStore store,
    AuthenticationSettingsResolver resolver,
    PublicAddress address,
    TimeProvider time,
    IOptions<ParleyOptions> options)
{
    public const string CallbackPath = "/auth/callback";

    /// <summary>Null when the deployment has no authentication settings or no authorization endpoint to send the visitor to.</summary>
    public async Task<LoginLink?> CreateAsync(Conversation conversation, CancellationToken cancellationToken)
    {
        if (await store.GetDeploymentAsync(conversation.DeploymentId, cancellationToken) is not { AuthenticationSettingsId: { } settingsId } deployment
            || await store.GetAuthenticationSettingsAsync(settingsId, cancellationToken) is not { } settings
            || settings.TenantId != deployment.TenantId)
        {
            return null;
        }

        if (await AuthorizationEndpointAsync(settings, cancellationToken) is not { } endpoint)
        {
            return null;
        }

        var (state, stateHash) = OpaqueToken.Create("pls_");
        var nonce = VisitorLogin.Base64UrlRandom();
        var verifier = VisitorLogin.Base64UrlRandom();
        var now = time.GetUtcNow();
        var expires = now + options.Value.LoginLinkLifetime;
        var redirectUri = address.Resolve(CallbackPath).ToString();
        await store.CreateLoginStateAsync(
            new LoginState(stateHash, conversation.TenantId, conversation.DeploymentId, conversation.Id, nonce, verifier, redirectUri, now, expires, conversation.ConsumerId),
            cancellationToken);

        var parameters = new Dictionary<string, string>
        {
            ["response_type"] = settings.Flow == AuthenticationFlow.Code ? "code" : "id_token",
            ["client_id"] = settings.ClientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = "openid profile email",
            ["state"] = state,
            ["nonce"] = nonce,
        };
        if (settings.Flow == AuthenticationFlow.Code)
        {
            parameters["code_challenge"] = Base64Url.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
            parameters["code_challenge_method"] = "S256";
        }

        return new LoginLink(AuthorizationUrl(endpoint, parameters), expires);
    }

    /// <summary>Where visitors log in: the configured authorization endpoint, or the one discovery names.</summary>
    public async Task<string?> AuthorizationEndpointAsync(AuthenticationSettings settings, CancellationToken cancellationToken) =>
        settings.AuthorizationEndpoint
        ?? (resolver.KeySource(settings) is DiscoveryKeySource discovery
            ? (await discovery.GetMetadataAsync(cancellationToken)).AuthorizationEndpoint?.ToString()
            : null);

    /// <summary>The endpoint with the parameters appended to whatever query it already has.</summary>
    internal static string AuthorizationUrl(string endpoint, IReadOnlyDictionary<string, string> parameters) =>
        endpoint + (endpoint.Contains('?', StringComparison.Ordinal) ? "&" : "?")
        + string.Join("&", parameters.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));
}
