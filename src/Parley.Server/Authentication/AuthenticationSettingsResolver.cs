using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;

namespace Parley.Authentication;

/// <summary>
/// Turns a stored settings record into what the identity core needs: validation settings (with
/// secrets unprotected only in memory) and a key source. Key sources are kept per record version,
/// so their key cache and unknown-kid cooldown work across requests.
/// </summary>
public sealed partial class AuthenticationSettingsResolver(
    IDataProtectionProvider protection,
    IHttpClientFactory httpClients,
    TokenValidator validator,
    TimeProvider time,
    IHostEnvironment environment,
    ILogger<AuthenticationSettingsResolver> logger)
{
    public const string HttpClientName = "parley-identity";

    /// <summary>The client for token endpoints: it follows no redirect.</summary>
    public const string TokenEndpointClientName = "parley-identity-token";
    private const string Purpose = "Parley.AuthenticationSettings.Secrets";
    // Keyed by record id and version: an updated record gets fresh entries. Old versions stay until
    // restart (records change rarely); see the closing note on eviction.
    private readonly ConcurrentDictionary<(Guid, DateTimeOffset), IKeySource> _keySources = new();
    private readonly ConcurrentDictionary<(Guid, DateTimeOffset, int), TokenValidationSettings> _validationSettings = new();

    public KeySourceOptions KeySourceOptions { get; } = new() { AllowHttpLoopback = environment.IsDevelopment() };

    public string Protect(string secret) => protection.CreateProtector(Purpose).Protect(secret);

    public string Unprotect(string protectedSecret) => protection.CreateProtector(Purpose).Unprotect(protectedSecret);

    /// <summary>An RSA private key stored protected as PEM (the caller disposes it).</summary>
    public RSA PrivateKey(string protectedPem)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(Unprotect(protectedPem));
        return rsa;
    }

    /// <summary>
    /// The validation settings for a record (secrets unprotected in memory once per record version,
    /// not on every token), with the nonce of a code-flow login when there is one.
    /// </summary>
    public TokenValidationSettings ValidationSettings(AuthenticationSettings settings, string? expectedNonce = null)
    {
        // Keys and secrets kept for a rotation's overlap stop at their end: one more version of the record then.
        var now = time.GetUtcNow();
        var live = settings.DecryptionKeys.Where(k => k.Live(now)).ToList();
        var previousHmac = settings.LivePreviousHmacSecret(now);
        var cached = _validationSettings.GetOrAdd((settings.Id, settings.UpdatedAt, live.Count * 2 + (previousHmac is null ? 0 : 1)), _ =>
        {
            RSA? decryption = null;
            if (settings.ProtectedDecryptionKey is { } protectedKey)
            {
                decryption = RSA.Create();
                decryption.ImportFromPem(Unprotect(protectedKey));
            }

            var generated = live.Select(k => PrivateKey(k.ProtectedPrivateKey)).ToList();

            return new TokenValidationSettings
            {
                Issuer = settings.Issuer,
                Audience = settings.ClientId,
                AllowedAlgorithms = settings.AllowedAlgorithms,
                HmacSecret = settings.ProtectedHmacSecret is { } hmac ? Encoding.UTF8.GetBytes(Unprotect(hmac)) : null,
                PreviousHmacSecret = previousHmac is null ? null : Encoding.UTF8.GetBytes(Unprotect(previousHmac)),
                DecryptionKey = decryption,
                DecryptionKeys = generated,
                ClockSkew = TimeSpan.FromSeconds(settings.ClockSkewSeconds),
                RecordPassedChecks = false,
                ReservedNoncePrefix = LoginLinks.NoncePrefix,
            };
        });
        return expectedNonce is null ? cached : cached with { ExpectedNonce = expectedNonce };
    }

    /// <summary>
    /// The settings' key source. A record this server cannot use (a plain-http key URL outside
    /// Development, a key document that does not parse: written around the admin API's checks) is
    /// a configuration error, logged with the reason, and told to the visitor without details.
    /// </summary>
    public IKeySource KeySource(AuthenticationSettings settings)
    {
        try
        {
            return CreateKeySource(settings);
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or UriFormatException)
        {
            LogUnusable(logger, settings.Id, exception.Message);
            throw new ParleyException(ErrorCodes.AuthenticationMisconfigured,
                "Logging in is not set up correctly for this site; the brand's administrator can see why in Parley's log.",
                StatusCodes.Status500InternalServerError);
        }
    }

    private IKeySource CreateKeySource(AuthenticationSettings settings) =>
        _keySources.GetOrAdd((settings.Id, settings.UpdatedAt), _ =>
        {
            var http = httpClients.CreateClient(HttpClientName);
            if (settings.KeysDocument is { } document)
            {
                return new StaticKeySource(KeySetParser.Parse(document));
            }

            return settings switch
            {
                { DiscoveryUrl: { } discovery } => new DiscoveryKeySource(new Uri(discovery), settings.Issuer, http, KeySourceOptions, time),
                { KeysUrl: { } keys } => new HttpKeySource(new Uri(keys), http, KeySourceOptions, time),
                // Only a custom login page's security key: no token from the page can be verified.
                _ => new StaticKeySource(KeySet.Empty),
            };
        });

    /// <summary>
    /// Exchanges an authorization code for the login <paramref name="state"/> started, with
    /// Parley's client credentials and PKCE verifier; the id_token must carry the state's nonce.
    /// </summary>
    public async Task<TokenValidationResult> ExchangeCodeAsync(
        AuthenticationSettings settings,
        string code,
        LoginState state,
        string? codeVerifier,
        CancellationToken cancellationToken)
    {
        if (settings.Flow != AuthenticationFlow.Code || settings.ProtectedClientSecret is null)
        {
            return SignInRefusal.Result(OAuthErrors.UnauthorizedClient, "flow", "These authentication settings are not set up for the code flow (flow \"code\" and a client secret).");
        }

        var keys = KeySource(settings);
        Uri? tokenEndpoint;
        try
        {
            tokenEndpoint = settings.TokenEndpoint is { } configured
                ? new Uri(configured)
                : keys is DiscoveryKeySource discovery ? (await discovery.GetMetadataAsync(cancellationToken)).TokenEndpoint : null;
        }
        catch (KeySourceUnavailableException unavailable)
        {
            return SignInRefusal.Result(OAuthErrors.TemporarilyUnavailable, "discovery", unavailable.Message);
        }

        if (tokenEndpoint is null)
        {
            return SignInRefusal.Result(OAuthErrors.ServerError, "token_endpoint", "The settings have no token endpoint (set tokenEndpoint or discoveryUrl).");
        }

        var client = new Identity.CodeFlow.CodeExchangeClient(httpClients.CreateClient(TokenEndpointClientName), validator, KeySourceOptions);
        return await client.ExchangeAsync(
            new Identity.CodeFlow.CodeExchangeRequest(
                tokenEndpoint, settings.ClientId, Unprotect(settings.ProtectedClientSecret), Identity.CodeFlow.ClientAuthentication.ClientSecretBasic,
                code, state.RedirectUri, codeVerifier ?? state.CodeVerifier),
            ValidationSettings(settings, state.Nonce),
            keys,
            cancellationToken);
    }

    [LoggerMessage(EventId = 6007, Level = LogLevel.Warning, Message = "Authentication settings {SettingsId} cannot be used: {Reason}")]
    private static partial void LogUnusable(ILogger logger, Guid settingsId, string reason);
}
