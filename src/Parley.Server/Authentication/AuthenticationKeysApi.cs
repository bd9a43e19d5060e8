using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Identity.Jose;
using Parley.Security;
using Parley.Storage;

namespace Parley.Authentication;

/// <summary>How long the value before a rotation keeps working (hours, 0 to 720); the default is per kind.</summary>
public sealed record RotationRequest(int? OverlapHours = null);

/// <summary>A new secret, shown once: the brand copies it now; the API never shows it again.</summary>
public sealed record RotatedSecret(string Secret, DateTimeOffset? PreviousValidUntil);

/// <summary>Parley's new key pair: its kid, where the public key is published, and until when the previous one decrypts.</summary>
public sealed record RotatedKey(string Kid, string JwksUrl, DateTimeOffset? PreviousValidUntil);

/// <summary>One of Parley's key pairs as the API shows it (never the private half).</summary>
public sealed record DecryptionKeyView(string Kid, DateTimeOffset CreatedAt, DateTimeOffset? RetiresAt, bool Current);

/// <summary>
/// Keys and secrets an admin rotates without breaking what is on its way: Parley's own key pair for
/// encrypted tokens (the brand encrypts to the public key Parley publishes as a JWKS, LivePerson's
/// model), the custom login page's security key and the HMAC secret (Parley generates them, Pega's
/// "Generate"). The value before a rotation keeps working for an overlap, then stops.
/// </summary>
public static class AuthenticationKeysApi
{
    /// <summary>RSA key size of the pairs Parley generates.</summary>
    public const int KeyBits = 3072;

    private static readonly TimeSpan DefaultKeyOverlap = TimeSpan.FromDays(7);

    /// <summary>Published JWKS documents by record version and live keys: an anonymous request never costs a private-key import.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(Guid, DateTimeOffset, string), string> Published = new();
    private static readonly TimeSpan DefaultSecretOverlap = TimeSpan.FromHours(24);

    public static IEndpointRouteBuilder MapAuthenticationKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/admin/authentication-settings/{id:guid}").RequireAuthorization(CallerSchemes.Admin);
        group.MapPost("/decryption-keys", RotateKeyAsync);
        group.MapDelete("/decryption-keys/{kid}", RemoveKeyAsync);
        group.MapPost("/security-key", (Guid id, RotationRequest? request, HttpContext context, IAuthenticationSettingsStore store, AuthenticationSettingsResolver resolver,
            TimeProvider time, Audit.AuditLog audit, CancellationToken cancellationToken) =>
            RotateSecretAsync(id, request, context, store, resolver, time, audit, securityKey: true, cancellationToken));
        group.MapPost("/hmac-secret", (Guid id, RotationRequest? request, HttpContext context, IAuthenticationSettingsStore store, AuthenticationSettingsResolver resolver,
            TimeProvider time, Audit.AuditLog audit, CancellationToken cancellationToken) =>
            RotateSecretAsync(id, request, context, store, resolver, time, audit, securityKey: false, cancellationToken));
        app.MapGet("/api/v1/authentication-settings/{id:guid}/jwks.json", JwksAsync).AllowAnonymous();
        return app;
    }

    /// <summary>Where a record's public encryption keys are published.</summary>
    public static string JwksPath(Guid settingsId) => $"/api/v1/authentication-settings/{settingsId}/jwks.json";

    /// <summary>A new key pair becomes the one brands encrypt to; the current one keeps decrypting for the overlap (7 days by default).</summary>
    private static async Task<Ok<RotatedKey>> RotateKeyAsync(
        Guid id, RotationRequest? request, HttpContext context, IAuthenticationSettingsStore store, AuthenticationSettingsResolver resolver,
        TimeProvider time, Audit.AuditLog audit, Operations.PublicAddress address, CancellationToken cancellationToken)
    {
        var settings = await AuthenticationSettingsApi.OwnAsync(id, context, store, cancellationToken);
        var now = time.GetUtcNow();
        var overlap = Overlap(request, DefaultKeyOverlap);
        using var rsa = RSA.Create(KeyBits);
        var key = new ParleyKeyPair(Thumbprint(rsa), resolver.Protect(rsa.ExportPkcs8PrivateKeyPem()), now);
        var previousUntil = settings.DecryptionKeys.FirstOrDefault(k => k.Live(now)) is null ? (DateTimeOffset?)null : now + overlap;
        var kept = settings.DecryptionKeys
            .Where(k => k.Live(now))
            .Select(k => k with { RetiresAt = k.RetiresAt is { } end && end < now + overlap ? end : now + overlap })
            .Where(k => k.Live(now));
        await store.SaveAuthenticationSettingsAsync(settings with { DecryptionKeys = [key, .. kept], UpdatedAt = now }, cancellationToken);
        await audit.ChangedAsync(context, Audit.AuditKinds.SettingsUpdated, detail: $"\"{settings.Name}\" ({settings.Id}): a new decryption key {key.Kid}");
        return TypedResults.Ok(new RotatedKey(key.Kid, address.Resolve(JwksPath(id)).ToString(), previousUntil));
    }

    /// <summary>Stops a key at once (a key that leaked): tokens encrypted to it are refused from now on.</summary>
    private static async Task<NoContent> RemoveKeyAsync(
        Guid id, string kid, HttpContext context, IAuthenticationSettingsStore store, TimeProvider time, Audit.AuditLog audit, CancellationToken cancellationToken)
    {
        var settings = await AuthenticationSettingsApi.OwnAsync(id, context, store, cancellationToken);
        if (!settings.DecryptionKeys.Any(k => k.Kid == kid))
        {
            throw ParleyException.NotFound("The decryption key");
        }

        await store.SaveAuthenticationSettingsAsync(
            settings with { DecryptionKeys = [.. settings.DecryptionKeys.Where(k => k.Kid != kid)], UpdatedAt = time.GetUtcNow() }, cancellationToken);
        await audit.ChangedAsync(context, Audit.AuditKinds.SettingsUpdated, detail: $"\"{settings.Name}\" ({settings.Id}): decryption key {kid} removed");
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Generates a new security key or HMAC secret (256 random bits, base64url) and returns it once.
    /// The one before it keeps working for the overlap (24 hours by default; 0 stops it at once).
    /// </summary>
    private static async Task<Ok<RotatedSecret>> RotateSecretAsync(
        Guid id, RotationRequest? request, HttpContext context, IAuthenticationSettingsStore store, AuthenticationSettingsResolver resolver,
        TimeProvider time, Audit.AuditLog audit, bool securityKey, CancellationToken cancellationToken)
    {
        var settings = await AuthenticationSettingsApi.OwnAsync(id, context, store, cancellationToken);
        var now = time.GetUtcNow();
        var overlap = Overlap(request, DefaultSecretOverlap);
        var secret = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        var previous = securityKey ? settings.ProtectedSecurityKey : settings.ProtectedHmacSecret;
        var until = previous is null || overlap == TimeSpan.Zero ? (DateTimeOffset?)null : now + overlap;
        var rotated = securityKey
            ? settings with { ProtectedSecurityKey = resolver.Protect(secret), ProtectedPreviousSecurityKey = until is null ? null : previous, PreviousSecurityKeyUntil = until }
            : settings with { ProtectedHmacSecret = resolver.Protect(secret), ProtectedPreviousHmacSecret = until is null ? null : previous, PreviousHmacSecretUntil = until };
        await store.SaveAuthenticationSettingsAsync(rotated with { UpdatedAt = now }, cancellationToken);
        await audit.ChangedAsync(context, Audit.AuditKinds.SettingsUpdated,
            detail: $"\"{settings.Name}\" ({settings.Id}): a new {(securityKey ? "security key" : "HMAC secret")}" + (until is null ? "" : $"; the previous one works until {until:O}"));
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new RotatedSecret(secret, until));
    }

    /// <summary>The public halves of a record's live key pairs, the one to encrypt to first.</summary>
    private static async Task<IResult> JwksAsync(Guid id, HttpContext context, IAuthenticationSettingsStore store, AuthenticationSettingsResolver resolver, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (await store.GetAuthenticationSettingsAsync(id, cancellationToken) is not { } settings || !settings.DecryptionKeys.Any(k => k.Live(now)))
        {
            return Results.NotFound();
        }

        var live = settings.DecryptionKeys.Where(k => k.Live(now)).ToList();
        var document = Published.GetOrAdd((settings.Id, settings.UpdatedAt, string.Join(' ', live.Select(k => k.Kid))), _ =>
        {
            var keys = new JsonArray();
            foreach (var key in live)
            {
                using var rsa = resolver.PrivateKey(key.ProtectedPrivateKey);
                var parameters = rsa.ExportParameters(false);
                keys.Add(new JsonObject
                {
                    ["kty"] = "RSA", ["use"] = "enc", ["alg"] = "RSA-OAEP-256", ["kid"] = key.Kid,
                    ["n"] = Base64Url.Encode(parameters.Modulus!), ["e"] = Base64Url.Encode(parameters.Exponent!),
                });
            }

            return new JsonObject { ["keys"] = keys }.ToJsonString();
        });
        context.Response.Headers.CacheControl = "public, max-age=300";
        return Results.Text(document, "application/jwk-set+json");
    }

    public static IReadOnlyList<DecryptionKeyView> Views(AuthenticationSettings settings, DateTimeOffset now) =>
        [.. settings.DecryptionKeys.Where(k => k.Live(now)).Select((k, i) => new DecryptionKeyView(k.Kid, k.CreatedAt, k.RetiresAt, i == 0))];

    private static TimeSpan Overlap(RotationRequest? request, TimeSpan fallback) => request?.OverlapHours switch
    {
        null => fallback,
        >= 0 and <= 720 and var hours => TimeSpan.FromHours(hours),
        _ => throw ParleyException.Invalid("overlapHours is 0 to 720 (30 days)."),
    };

    /// <summary>The RFC 7638 thumbprint of the public key: a kid the brand can recompute.</summary>
    private static string Thumbprint(RSA rsa)
    {
        var p = rsa.ExportParameters(false);
        var canonical = $"{{\"e\":\"{Base64Url.Encode(p.Exponent!)}\",\"kty\":\"RSA\",\"n\":\"{Base64Url.Encode(p.Modulus!)}\"}}";
        return Base64Url.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}
