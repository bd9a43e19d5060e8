using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parley.Identity.Jose;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;

namespace Parley.Cli;

/// <summary>
/// <c>parley token check</c>: validates tokens offline exactly as the server does, for brands' CI.
/// One JSON line per token; exit 0 when all are valid, 1 when any is not, 2 on a usage error.
/// </summary>
internal static class TokenCheckCommand
{
    public static Command Create()
    {
        var token = new Argument<string>("token") { Description = "The token, or - to read tokens from standard input, one per line." };
        var keys = new Option<string?>("--keys") { Description = "Key URL or file: PEM, JWK, JWKS, or the Dynamics kid/publicKey list. A JWK/JWKS file may hold oct keys, which then allow HS* for that key only." };
        var discovery = new Option<string?>("--discovery") { Description = "OpenID Connect discovery URL (its issuer must equal --issuer)." };
        var issuer = new Option<string?>("--issuer") { Description = "Required iss." };
        var audience = new Option<string?>("--audience") { Description = "Required aud (Parley's client id)." };
        var algs = new Option<string?>("--alg") { Description = "Comma-separated allowed algorithms (default: RS*, PS*, ES*; HS* with --secret or oct keys)." };
        var secret = new Option<string?>("--secret") { Description = "Shared secret for HS* (UTF-8 text)." };
        var decryptKey = new Option<string?>("--decrypt-key") { Description = "PEM file with Parley's RSA private key, for encrypted (JWE) tokens." };
        var skew = new Option<int?>("--skew") { Description = "Clock skew in seconds (default 60)." };
        var now = new Option<long?>("--now") { Description = "Check as if the time were this Unix time (seconds)." };
        var noClaims = new Option<bool>("--no-claims") { Description = "Check only the signature (and decryption); print the payload." };

        var command = new Command("check", "Validate tokens offline against a key source and print every check.")
        {
            token, keys, discovery, issuer, audience, algs, secret, decryptKey, skew, now, noClaims,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var signatureOnly = result.GetValue(noClaims);
            string? Usage()
            {
                if (result.GetValue(keys) is null && result.GetValue(discovery) is null && result.GetValue(secret) is null)
                {
                    return "give --keys, --discovery or --secret";
                }

                if (result.GetValue(discovery) is not null && result.GetValue(issuer) is null)
                {
                    return "--discovery needs --issuer (the document's issuer must match it)";
                }

                return !signatureOnly && (result.GetValue(issuer) is null || result.GetValue(audience) is null)
                    ? "give --issuer and --audience, or --no-claims to check only the signature"
                    : null;
            }

            if (Usage() is { } problem)
            {
                await Console.Error.WriteLineAsync("parley token check: " + problem);
                return 2;
            }

            var time = result.GetValue(now) is { } unix ? new FixedTime(DateTimeOffset.FromUnixTimeSeconds(unix)) : TimeProvider.System;
            using var http = new HttpClient();
            var options = new KeySourceOptions { AllowHttpLoopback = true };
            IKeySource source;
            var allowed = result.GetValue(algs)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            try
            {
                (source, var hasSymmetric) = await KeySourceAsync(result.GetValue(keys), result.GetValue(discovery), result.GetValue(issuer), http, options, time);
                allowed ??= [.. JoseAlgorithms.DefaultAllowed, .. (hasSymmetric || result.GetValue(secret) is not null ? JoseAlgorithms.Hmac : [])];
            }
            catch (Exception exception) when (exception is KeySetException or ArgumentException or IOException or UriFormatException)
            {
                await Console.Error.WriteLineAsync("parley token check: " + exception.Message);
                return 2;
            }

            RSA? decryption = null;
            if (result.GetValue(decryptKey) is { } keyFile)
            {
                decryption = RSA.Create();
                try
                {
                    decryption.ImportFromPem(await File.ReadAllTextAsync(LocalFile(keyFile), cancellationToken));
                }
                catch (IOException exception)
                {
                    await Console.Error.WriteLineAsync("parley token check: " + exception.Message);
                    return 2;
                }
            }

            var settings = new TokenValidationSettings
            {
                Issuer = result.GetValue(issuer),
                Audience = result.GetValue(audience),
                AllowedAlgorithms = allowed,
                HmacSecret = result.GetValue(secret) is { } s ? Encoding.UTF8.GetBytes(s) : null,
                DecryptionKey = decryption,
                ClockSkew = TimeSpan.FromSeconds(result.GetValue(skew) ?? 60),
                SignatureOnly = signatureOnly,
            };
            var validator = new TokenValidator(time);
            var allValid = true;
            await foreach (var input in Tokens(result.GetValue(token)!, cancellationToken))
            {
                var verdict = await validator.ValidateAsync(input, settings, source, cancellationToken);
                allValid &= verdict.IsValid;
                await Console.Out.WriteLineAsync(Render(verdict));
            }

            return allValid ? 0 : 1;
        });
        return command;
    }

    private static async Task<(IKeySource Source, bool HasSymmetric)> KeySourceAsync(
        string? keys, string? discovery, string? issuer, HttpClient http, KeySourceOptions options, TimeProvider time)
    {
        if (discovery is not null)
        {
            return (new DiscoveryKeySource(new Uri(discovery), issuer!, http, options, time), false);
        }

        if (keys is null)
        {
            return (new StaticKeySource(KeySet.Empty), false);
        }

        if (keys.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || keys.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return (new HttpKeySource(new Uri(keys), http, options, time), false);
        }

        // A local file is trusted by whoever runs the command, so it may hold symmetric (oct) keys.
        var set = KeySetParser.Parse(await File.ReadAllTextAsync(LocalFile(keys)), allowSymmetric: true);
        return (new StaticKeySource(set), set.Keys.Any(k => k.KeyType == "oct"));
    }

    /// <summary>
    /// A file named on the command line. A relative path is relative to the current directory; when
    /// the file is not there, to the shell's directory (<c>PWD</c>): <c>dotnet run</c> starts Parley in
    /// its project folder (src/Parley.Server), not where the command was typed.
    /// </summary>
    internal static string LocalFile(string path)
    {
        if (Path.IsPathRooted(path) || File.Exists(path))
        {
            return path;
        }

        var current = Directory.GetCurrentDirectory();
        var shell = Environment.GetEnvironmentVariable("PWD");
        if (shell is { Length: > 0 } && Path.IsPathRooted(shell) && Path.GetFullPath(shell) != current && File.Exists(Path.Combine(shell, path)))
        {
            return Path.Combine(shell, path);
        }

        throw new FileNotFoundException(
            $"Could not find file '{path}' in {current}{(shell is { Length: > 0 } && shell != current ? $" or in {shell}" : "")}. Give an absolute path (e.g. \"$PWD/{path}\").", path);
    }

    private static async IAsyncEnumerable<string> Tokens(string argument, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (argument != "-")
        {
            yield return argument.Trim();
            yield break;
        }

        while (await Console.In.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Trim() is { Length: > 0 } trimmed)
            {
                yield return trimmed;
            }
        }
    }

    private static string Render(TokenValidationResult verdict)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping: this is terminal and CI-log output, never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteBoolean("valid", verdict.IsValid);
            json.WriteString("error", verdict.Error);
            json.WriteString("error_description", verdict.Description);
            json.WriteStartArray("checks");
            foreach (var check in verdict.Checks)
            {
                json.WriteStartObject();
                json.WriteString("name", check.Name);
                json.WriteBoolean("ok", check.Ok);
                json.WriteString("detail", check.Detail);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WritePropertyName("header");
            if (verdict.Header is { } header) { header.WriteTo(json); } else { json.WriteNullValue(); }
            json.WritePropertyName("claims");
            if (verdict.Claims is { } claims) { claims.WriteTo(json); } else { json.WriteNullValue(); }
            if (verdict.Payload is { } payload)
            {
                // --no-claims: the verified payload whatever it is, as text when it is UTF-8, else base64url.
                var text = Utf8OrNull(payload.Span);
                json.WriteString("payload", text ?? Identity.Jose.Base64Url.Encode(payload.Span));
                json.WriteString("payloadEncoding", text is null ? "base64url" : "utf-8");
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string? Utf8OrNull(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
