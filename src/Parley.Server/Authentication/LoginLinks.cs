using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Parley.Conversations;
using Parley.Identity.Jose;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;
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
    IDeploymentStore deploymentStore, ILoginStateStore loginStateStore, IAuthenticationSettingsStore settingsStore,
    AuthenticationSettingsResolver resolver,
    PublicAddress address,
    TimeProvider time,
    IOptions<ParleyOptions> options)
{
    public const string CallbackPath = "/auth/callback";

    /// <summary>
    /// Starts every nonce Parley sends, so that a token answering one of Parley's logins is known
    /// as such wherever it turns up: without its state it is refused.
    /// </summary>
    public const string NoncePrefix = "parley-";

    /// <summary>
    /// Null when the deployment has no authentication settings or no authorization endpoint to send
    /// the visitor to. With <paramref name="assurance"/> (a step-up for a bot case) the link asks the
    /// identity provider for it (<c>acr_values</c>, <c>max_age</c>, and <c>prompt=login</c> when a
    /// login age is asked for) and the login that comes back is checked against it.
    /// </summary>
    public async Task<LoginLink?> CreateAsync(Conversation conversation, CancellationToken cancellationToken, LoginAssurance? assurance = null)
    {
        if (await deploymentStore.GetDeploymentAsync(conversation.DeploymentId, cancellationToken) is not { AuthenticationSettingsId: { } settingsId } deployment
            || await settingsStore.GetAuthenticationSettingsAsync(settingsId, cancellationToken) is not { } settings
            || settings.TenantId != deployment.TenantId
            || await AuthorizationEndpointAsync(settings, cancellationToken) is not { } endpoint)
        {
            return null;
        }

        var login = await IssueAsync(settings, endpoint, conversation.DeploymentId, conversation, address.Resolve(CallbackPath).ToString(), cancellationToken, assurance);
        return new LoginLink(login.AuthorizationUrl!, login.ExpiresAt);
    }

    /// <summary>A pre-chat code-flow login: the page sends the visitor to the URL and brings back the code to <paramref name="redirectUri"/>.</summary>
    public async Task<CodeLoginResponse> StartPreChatAsync(
        AuthenticationSettings settings, Guid deploymentId, string redirectUri, CancellationToken cancellationToken) =>
        await IssueAsync(settings, await AuthorizationEndpointAsync(settings, cancellationToken), deploymentId, null, redirectUri, cancellationToken);

    /// <summary>
    /// Stores a single-use login state (with its nonce and PKCE verifier; mid-chat, bound to the
    /// conversation and its consumer) and builds the authorization URL when there is an endpoint.
    /// </summary>
    private async Task<CodeLoginResponse> IssueAsync(
        AuthenticationSettings settings, string? endpoint, Guid deploymentId, Conversation? conversation, string redirectUri, CancellationToken cancellationToken,
        LoginAssurance? assurance = null)
    {
        var (state, stateHash) = OpaqueToken.Create("pls_");
        var nonce = NoncePrefix + Random();
        var verifier = Random();
        var challenge = Base64Url.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var now = time.GetUtcNow();
        var expires = now + (settings.LoginLinkLifetimeMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : options.Value.LoginLinkLifetime);
        await loginStateStore.CreateLoginStateAsync(
            new LoginState(stateHash, settings.TenantId, deploymentId, conversation?.Id, nonce, verifier, redirectUri, now, expires, conversation?.ConsumerId, assurance),
            cancellationToken);

        var code = settings.Flow == AuthenticationFlow.Code;
        var parameters = new Dictionary<string, string>
        {
            ["response_type"] = code ? "code" : "id_token",
            ["client_id"] = settings.ClientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = "openid profile email",
            ["state"] = state,
            ["nonce"] = nonce,
        };
        if (code)
        {
            parameters["code_challenge"] = challenge;
            parameters["code_challenge_method"] = "S256";
        }

        if (assurance?.AcrValues is { } acrValues)
        {
            parameters["acr_values"] = acrValues;
        }

        if (assurance?.MaxAgeSeconds is { } maxAge)
        {
            // max_age makes the provider re-authenticate an older session; prompt=login asks for it outright.
            parameters["max_age"] = maxAge.ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameters["prompt"] = "login";
        }

        return new CodeLoginResponse(state, nonce, challenge, "S256", endpoint is null ? null : AuthorizationUrl(endpoint, parameters), expires);
    }

    private static string Random() => Base64Url.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// Where visitors log in: the configured authorization endpoint, or the one discovery names. A
    /// discovery document that cannot be had or used (down, garbage, another issuer) is a retryable
    /// <c>temporarily_unavailable</c>, with the reason.
    /// </summary>
    public async Task<string?> AuthorizationEndpointAsync(AuthenticationSettings settings, CancellationToken cancellationToken)
    {
        if (settings.AuthorizationEndpoint is not null || resolver.KeySource(settings) is not DiscoveryKeySource discovery)
        {
            return settings.AuthorizationEndpoint;
        }

        try
        {
            return (await discovery.GetMetadataAsync(cancellationToken)).AuthorizationEndpoint?.ToString();
        }
        catch (KeySourceUnavailableException unavailable)
        {
            throw new ParleyException(OAuthErrors.TemporarilyUnavailable, unavailable.Message, StatusCodes.Status503ServiceUnavailable, retryable: true);
        }
    }

    /// <summary>The endpoint with the parameters appended to whatever query it already has.</summary>
    private static string AuthorizationUrl(string endpoint, IReadOnlyDictionary<string, string> parameters) =>
        endpoint + (endpoint.Contains('?', StringComparison.Ordinal) ? "&" : "?")
        + string.Join("&", parameters.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));
}
