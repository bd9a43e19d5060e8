using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Identity.Jose;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;
using Parley.Security;
using Parley.Storage;

namespace Parley.Authentication;

/// <summary>
/// What an admin sends to create or update a record. Secrets are write-only: on update, null keeps
/// the stored value, an empty string removes it.
/// </summary>
public sealed record AuthenticationSettingsRequest(
    string Name,
    string? Flow,
    string Issuer,
    string ClientId,
    string? KeysUrl,
    string? DiscoveryUrl,
    string? KeysDocument,
    string? AuthorizationEndpoint,
    string? TokenEndpoint,
    string? JsClientFunction,
    IReadOnlyList<string>? AllowedAlgorithms,
    int? ClockSkewSeconds,
    int? SessionTtlMinutes,
    IReadOnlyDictionary<string, string>? ClaimMapping,
    string? ClientSecret,
    string? HmacSecret,
    string? DecryptionKeyPem,
    string? SecurityKey,
    int? LoginLinkLifetimeMinutes = null);

/// <summary>A record as the API shows it: every setting, and only whether each secret is set.</summary>
public sealed record AuthenticationSettingsView(
    Guid Id,
    string Name,
    string Flow,
    string Issuer,
    string ClientId,
    string? KeysUrl,
    string? DiscoveryUrl,
    string? KeysDocument,
    string? AuthorizationEndpoint,
    string? TokenEndpoint,
    string JsClientFunction,
    IReadOnlyList<string> AllowedAlgorithms,
    int ClockSkewSeconds,
    int? SessionTtlMinutes,
    IReadOnlyDictionary<string, string> ClaimMapping,
    bool HasClientSecret,
    bool HasHmacSecret,
    bool HasDecryptionKey,
    bool HasSecurityKey,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string BackChannelLogoutUri,
    int? LoginLinkLifetimeMinutes,
    IReadOnlyList<DecryptionKeyView> DecryptionKeys,
    string? JwksUrl,
    DateTimeOffset? PreviousHmacSecretUntil,
    DateTimeOffset? PreviousSecurityKeyUntil);

public sealed record TokenTestRequest(string Token);

public sealed record DeploymentAuthenticationRequest(Guid? SettingsId);

public sealed record TokenTestResponse(
    bool Valid,
    string? Error,
    string? ErrorDescription,
    string? FailedCheck,
    IReadOnlyList<TokenCheck> Checks,
    JsonElement? Header,
    JsonElement? Claims);

public static class AuthenticationSettingsApi
{
    public static IServiceCollection AddAuthenticationSettings(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OutboundOptions>().Bind(configuration.GetSection(OutboundOptions.Section))
            .Validate(o => o.AllowedNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)), "Parley:Outbound:AllowedNetworks holds networks in CIDR notation, e.g. 10.20.0.0/16.")
            .ValidateOnStart();
        services.AddSingleton<OutboundPolicy>();
        // Keys and discovery may redirect (each hop is checked); the token endpoint, which gets the client secret, may not.
        services.AddHttpClient(AuthenticationSettingsResolver.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundPolicy>().Handler(followRedirects: true));
        services.AddHttpClient(AuthenticationSettingsResolver.TokenEndpointClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundPolicy>().Handler(followRedirects: false));
        services.AddSingleton<AuthenticationSettingsResolver>();
        services.AddSingleton<VisitorSignIn>();
        services.AddSingleton<BackChannelLogout>();
        services.AddSingleton<LoginLinks>();
        services.AddSingleton<AuthenticationExpiry>();
        services.AddHostedService<LoginStatePurge>();
        services.AddSingleton(sp => new TokenValidator(sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary><c>/api/v1/admin/authentication-settings</c>: CRUD and the token tester (admins of the tenant only).</summary>
    public static IEndpointRouteBuilder MapAuthenticationSettingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/authentication-settings").RequireAuthorization(CallerSchemes.Admin);
        group.MapGet("/", ListAsync);
        group.MapPost("/", CreateAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapPut("/{id:guid}", UpdateAsync);
        group.MapDelete("/{id:guid}", DeleteAsync);
        group.MapPost("/{id:guid}/test", TestAsync).RequireRateLimiting(AbuseLimits.TokenTestPolicy);
        app.MapPut("/api/v1/admin/deployments/{deploymentId:guid}/authentication-settings", AttachAsync).RequireAuthorization(CallerSchemes.Admin);
        return app;
    }

    private static async Task<Ok<IReadOnlyList<AuthenticationSettingsView>>> ListAsync(
        HttpContext context, IAuthenticationSettingsStore settingsStore, Operations.PublicAddress address, TimeProvider time, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<AuthenticationSettingsView>>(
            (await settingsStore.ListAuthenticationSettingsAsync(context.Caller<AgentCaller>().TenantId, cancellationToken)).Select(s => View(s, address, time.GetUtcNow())).ToList());

    private static async Task<Ok<AuthenticationSettingsView>> GetAsync(
        Guid id, HttpContext context, IAuthenticationSettingsStore settingsStore, Operations.PublicAddress address, TimeProvider time, CancellationToken cancellationToken) =>
        TypedResults.Ok(View(await OwnAsync(id, context, settingsStore, cancellationToken), address, time.GetUtcNow()));

    private static async Task<Created<AuthenticationSettingsView>> CreateAsync(
        AuthenticationSettingsRequest request, HttpContext context, IAuthenticationSettingsStore settingsStore, AuthenticationSettingsResolver resolver, OutboundPolicy outbound, TimeProvider time,
        Audit.AuditLog audit, Operations.PublicAddress address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var empty = new AuthenticationSettings
        {
            Id = Guid.NewGuid(), TenantId = context.Caller<AgentCaller>().TenantId, Name = "", Issuer = "", ClientId = "", CreatedAt = now, UpdatedAt = now,
        };
        var settings = Apply(empty, request, resolver, outbound);
        await settingsStore.SaveAuthenticationSettingsAsync(settings, cancellationToken);
        await audit.ChangedAsync(context, Audit.AuditKinds.SettingsCreated, detail: Described(settings));
        return TypedResults.Created($"/api/v1/admin/authentication-settings/{settings.Id}", View(settings, address, time.GetUtcNow()));
    }

    private static async Task<Ok<AuthenticationSettingsView>> UpdateAsync(
        Guid id, AuthenticationSettingsRequest request, HttpContext context, IAuthenticationSettingsStore settingsStore, AuthenticationSettingsResolver resolver, OutboundPolicy outbound, TimeProvider time,
        Audit.AuditLog audit, Operations.PublicAddress address, CancellationToken cancellationToken)
    {
        var current = await OwnAsync(id, context, settingsStore, cancellationToken);
        var settings = Apply(current, request, resolver, outbound) with { UpdatedAt = time.GetUtcNow() };
        await settingsStore.SaveAuthenticationSettingsAsync(settings, cancellationToken);
        await audit.ChangedAsync(context, Audit.AuditKinds.SettingsUpdated, detail: Described(settings) + (request.ClientSecret is null && request.HmacSecret is null
            && request.DecryptionKeyPem is null && request.SecurityKey is null ? "" : "; a secret was replaced"));
        return TypedResults.Ok(View(settings, address, time.GetUtcNow()));
    }

    private static async Task<NoContent> DeleteAsync(Guid id, HttpContext context, IAuthenticationSettingsStore settingsStore, Audit.AuditLog audit, CancellationToken cancellationToken)
    {
        var settings = await OwnAsync(id, context, settingsStore, cancellationToken);
        if (await settingsStore.DeleteAuthenticationSettingsAsync(id, cancellationToken))
        {
            await audit.ChangedAsync(context, Audit.AuditKinds.SettingsDeleted, detail: Described(settings));
            return TypedResults.NoContent();
        }

        throw new ParleyException(ErrorCodes.InvalidRequest, "A deployment uses these settings; attach other settings to it first.", StatusCodes.Status409Conflict);
    }

    /// <summary>The token tester: every check a pasted token passes or fails, against this record.</summary>
    private static async Task<Ok<TokenTestResponse>> TestAsync(
        Guid id, TokenTestRequest request, HttpContext context, IAuthenticationSettingsStore settingsStore, AuthenticationSettingsResolver resolver, TokenValidator validator,
        CancellationToken cancellationToken)
    {
        var settings = await OwnAsync(id, context, settingsStore, cancellationToken);
        var result = await validator.ValidateAsync(
            request.Token?.Trim(), resolver.ValidationSettings(settings) with { RecordPassedChecks = true }, resolver.KeySource(settings), cancellationToken);
        return TypedResults.Ok(new TokenTestResponse(result.IsValid, result.Error, result.Description, result.FailedCheck, result.Checks, result.Header, result.Claims));
    }

    /// <summary>Attaches a record to a deployment of the same tenant (or detaches with null).</summary>
    private static async Task<NoContent> AttachAsync(
        Guid deploymentId, DeploymentAuthenticationRequest request, HttpContext context, IDeploymentStore deploymentStore, IAuthenticationSettingsStore settingsStore, Audit.AuditLog audit, CancellationToken cancellationToken)
    {
        await context.OwnDeploymentAsync(deploymentStore, deploymentId, cancellationToken);
        if (request.SettingsId is { } settingsId)
        {
            await OwnAsync(settingsId, context, settingsStore, cancellationToken);
        }

        await deploymentStore.SetDeploymentAuthenticationSettingsAsync(deploymentId, request.SettingsId, cancellationToken);
        await audit.ChangedAsync(context, Audit.AuditKinds.SettingsAttached, deploymentId, request.SettingsId is { } attached ? $"settings {attached}" : "detached");
        return TypedResults.NoContent();
    }

    /// <summary>What an audit event says about a settings record: its name and id, never a secret.</summary>
    private static string Described(AuthenticationSettings settings) => $"\"{settings.Name}\" ({settings.Id})";

    /// <summary>A record of the admin's tenant; any other is not_found.</summary>
    internal static async Task<AuthenticationSettings> OwnAsync(Guid id, HttpContext context, IAuthenticationSettingsStore settingsStore, CancellationToken cancellationToken) =>
        await settingsStore.GetAuthenticationSettingsAsync(id, cancellationToken) is { } settings && settings.TenantId == context.Caller<AgentCaller>().TenantId
            ? settings
            : throw ParleyException.NotFound("The authentication settings record");

    /// <summary>Checks a request completely (fail fast, say what to change) and applies it to a record.</summary>
    private static AuthenticationSettings Apply(
        AuthenticationSettings current, AuthenticationSettingsRequest request, AuthenticationSettingsResolver resolver, OutboundPolicy outbound)
    {
        static ParleyException Bad(string message) => ParleyException.Invalid(message);
        if (string.IsNullOrWhiteSpace(request.Name) || string.IsNullOrWhiteSpace(request.Issuer) || string.IsNullOrWhiteSpace(request.ClientId))
        {
            throw Bad("name, issuer and clientId are required.");
        }

        var flow = request.Flow switch
        {
            null or "implicit" => AuthenticationFlow.Implicit,
            "code" => AuthenticationFlow.Code,
            _ => throw Bad("flow is \"implicit\" or \"code\"."),
        };
        var sources = new[] { request.KeysUrl, request.DiscoveryUrl, request.KeysDocument }.Count(s => !string.IsNullOrWhiteSpace(s));
        var customLoginPageOnly = sources == 0 && (!string.IsNullOrEmpty(request.SecurityKey) || current.ProtectedSecurityKey is not null);
        if (sources != 1 && !customLoginPageOnly)
        {
            throw Bad("Give exactly one of keysUrl, discoveryUrl or keysDocument (none only with a securityKey, for a custom login page that signs its assertions with it).");
        }

        foreach (var (url, what) in new[] { (request.KeysUrl, "keysUrl"), (request.DiscoveryUrl, "discoveryUrl"), (request.AuthorizationEndpoint, "authorizationEndpoint"), (request.TokenEndpoint, "tokenEndpoint") })
        {
            if (string.IsNullOrWhiteSpace(url))
            {
                continue;
            }

            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            {
                throw Bad($"{what} is not an absolute URL.");
            }

            try
            {
                resolver.KeySourceOptions.RequireAllowedUrl(uri, what);
            }
            catch (ArgumentException exception)
            {
                throw Bad(exception.Message);
            }

            // A host name is checked at each connection (its address may change); a literal address can be refused now.
            if (what != "authorizationEndpoint" && System.Net.IPAddress.TryParse(uri.DnsSafeHost, out var address) && !outbound.Allows(address))
            {
                throw Bad($"{what} points at a private, loopback or link-local address, which Parley does not call (an operator can allow a network with Parley:Outbound:AllowedNetworks).");
            }
        }

        if (request.KeysDocument is { Length: > 0 } document)
        {
            try
            {
                if (KeySetParser.Parse(document).Keys.Count == 0)
                {
                    throw Bad("keysDocument holds no usable signature key.");
                }
            }
            catch (KeySetException exception)
            {
                throw Bad("keysDocument: " + exception.Message);
            }
        }

        var algorithms = request.AllowedAlgorithms ?? current.AllowedAlgorithms;
        if (algorithms.Count == 0 || algorithms.FirstOrDefault(a => !JoseAlgorithms.IsSignature(a)) is { } unknown && unknown is not null)
        {
            throw Bad($"allowedAlgorithms must list supported signature algorithms ({string.Join(", ", [.. JoseAlgorithms.Rsa, .. JoseAlgorithms.Ecdsa, .. JoseAlgorithms.Hmac])}).");
        }

        var hmac = Secret(request.HmacSecret, current.ProtectedHmacSecret, resolver);
        if (algorithms.Any(JoseAlgorithms.Hmac.Contains) && hmac is null)
        {
            throw Bad("HS* algorithms need hmacSecret.");
        }

        if (request.HmacSecret is { Length: > 0 and < 32 } || request.SecurityKey is { Length: > 0 and < 32 })
        {
            throw Bad("hmacSecret and securityKey must be at least 32 characters.");
        }

        if (request.ClockSkewSeconds is < 0 or > 600 || request.SessionTtlMinutes is <= 0 or > 60 * 24 * 30)
        {
            throw Bad("clockSkewSeconds is 0 to 600; sessionTtlMinutes is 1 to 43200 (or null: until the token expires).");
        }

        if (request.LoginLinkLifetimeMinutes is < 1 or > 60)
        {
            throw Bad("loginLinkLifetimeMinutes is 1 to 60 (or null: the server's default, Parley:LoginLinkLifetime).");
        }

        if (request.DecryptionKeyPem is { Length: > 0 } pem)
        {
            try
            {
                using var rsa = RSA.Create();
                rsa.ImportFromPem(pem);
                if (rsa.KeySize < VerificationKey.MinRsaBits)
                {
                    throw Bad("decryptionKeyPem must be an RSA key of at least 2048 bits.");
                }

                rsa.ExportParameters(true);
            }
            catch (Exception exception) when (exception is CryptographicException or ArgumentException)
            {
                throw Bad("decryptionKeyPem must be a PEM RSA private key.");
            }
        }

        return current with
        {
            Name = request.Name.Trim(),
            Flow = flow,
            Issuer = request.Issuer.Trim(),
            ClientId = request.ClientId.Trim(),
            KeysUrl = Blank(request.KeysUrl),
            DiscoveryUrl = Blank(request.DiscoveryUrl),
            KeysDocument = Blank(request.KeysDocument),
            AuthorizationEndpoint = Blank(request.AuthorizationEndpoint),
            TokenEndpoint = Blank(request.TokenEndpoint),
            JsClientFunction = Blank(request.JsClientFunction) ?? current.JsClientFunction,
            AllowedAlgorithms = algorithms.ToList(),
            ClockSkewSeconds = request.ClockSkewSeconds ?? current.ClockSkewSeconds,
            SessionTtlMinutes = request.SessionTtlMinutes,
            LoginLinkLifetimeMinutes = request.LoginLinkLifetimeMinutes,
            ClaimMapping = request.ClaimMapping ?? current.ClaimMapping,
            ProtectedClientSecret = Secret(request.ClientSecret, current.ProtectedClientSecret, resolver),
            ProtectedHmacSecret = hmac,
            ProtectedDecryptionKey = Secret(request.DecryptionKeyPem, current.ProtectedDecryptionKey, resolver),
            ProtectedSecurityKey = Secret(request.SecurityKey, current.ProtectedSecurityKey, resolver),
        };
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>null keeps the stored secret, "" removes it, anything else replaces it (protected).</summary>
    private static string? Secret(string? given, string? stored, AuthenticationSettingsResolver resolver) => given switch
    {
        null => stored,
        "" => null,
        _ => resolver.Protect(given),
    };

    private static AuthenticationSettingsView View(AuthenticationSettings s, Operations.PublicAddress address, DateTimeOffset now)
    {
        var keys = AuthenticationKeysApi.Views(s, now);
        return new(s.Id, s.Name, s.Flow == AuthenticationFlow.Code ? "code" : "implicit", s.Issuer, s.ClientId, s.KeysUrl, s.DiscoveryUrl, s.KeysDocument,
            s.AuthorizationEndpoint, s.TokenEndpoint, s.JsClientFunction, s.AllowedAlgorithms, s.ClockSkewSeconds, s.SessionTtlMinutes, s.ClaimMapping,
            s.ProtectedClientSecret is not null, s.ProtectedHmacSecret is not null, s.ProtectedDecryptionKey is not null, s.ProtectedSecurityKey is not null,
            s.CreatedAt, s.UpdatedAt, address.Resolve($"/auth/backchannel-logout/{s.Id}").ToString(),
            s.LoginLinkLifetimeMinutes, keys, keys.Count == 0 ? null : address.Resolve(AuthenticationKeysApi.JwksPath(s.Id)).ToString(),
            s.LivePreviousHmacSecret(now) is null ? null : s.PreviousHmacSecretUntil, s.LivePreviousSecurityKey(now) is null ? null : s.PreviousSecurityKeyUntil);
    }
}
