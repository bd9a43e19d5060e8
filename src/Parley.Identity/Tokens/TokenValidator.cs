using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Parley.Identity.Jose;
using Parley.Identity.Keys;

namespace Parley.Identity.Tokens;

/// <summary>
/// Decides whether a token from a brand proves who the visitor is: compact JWS (RS/PS/ES, and HS
/// with a configured secret), optionally nested in a JWE encrypted to Parley (RSA-OAEP[-256] with
/// AES-GCM or AES-CBC-HMAC), then the claims (RFC 7519, RFC 8725, OpenID Connect Core 3.1.3.7).
/// Keys and key URLs are never taken from the token (<c>jwk</c>, <c>jku</c>, <c>x5u</c>, <c>x5c</c>
/// are ignored; <c>kid</c> is only a lookup string). No exception escapes for any input.
/// </summary>
public sealed partial class TokenValidator(TimeProvider time)
{
    public async Task<TokenValidationResult> ValidateAsync(
        string? token, TokenValidationSettings settings, IKeySource keys, CancellationToken cancellationToken)
    {
        var run = new Run(settings, keys, time.GetUtcNow());
        try
        {
            var identity = await run.ValidateAsync(token, cancellationToken);
            return new TokenValidationResult { Identity = identity, Checks = run.Checks, Header = run.Header, Claims = run.Claims, Payload = run.SignedPayload };
        }
        catch (Refusal refusal)
        {
            run.Checks.Add(new TokenCheck(refusal.Check, false, refusal.Description));
            return new TokenValidationResult
            {
                Error = refusal.Error, FailedCheck = refusal.Check, Description = refusal.Description,
                Checks = run.Checks, Header = run.Header, Claims = run.Claims, Payload = run.SignedPayload,
            };
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Defence in depth: an input this code did not foresee is a refusal, never a crash.
            run.Checks.Add(new TokenCheck("internal", false, "The token could not be processed."));
            return new TokenValidationResult
            {
                Error = OAuthErrors.InvalidToken, FailedCheck = "internal", Description = "The token could not be processed.", Checks = run.Checks,
            };
        }
    }

    private sealed class Refusal(string error, string check, string description) : Exception(description)
    {
        public string Error { get; } = error;

        public string Check { get; } = check;

        public string Description { get; } = description;
    }

    private static Refusal Invalid(string check, string description) => new(OAuthErrors.InvalidToken, check, description);

    /// <summary>The detail of a passed check, formatted only when the run records passed checks (the token tester, the CLI).</summary>
    [InterpolatedStringHandler]
    private ref struct PassDetail
    {
        private DefaultInterpolatedStringHandler _inner;

        public PassDetail(int literalLength, int formattedCount, Run run, out bool enabled)
        {
            enabled = run.Recording;
            _inner = enabled ? new DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture) : default;
        }

        public void AppendLiteral(string value) => _inner.AppendLiteral(value);

        public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);

        public string ToStringAndClear() => _inner.ToStringAndClear();
    }

    private sealed class Run(TokenValidationSettings settings, IKeySource keySource, DateTimeOffset now)
    {
        public List<TokenCheck> Checks { get; } = [];

        public JsonElement? Header { get; private set; }

        public JsonElement? Claims { get; private set; }

        public ReadOnlyMemory<byte>? SignedPayload { get; private set; }

        public bool Recording => settings.RecordPassedChecks;

        private void Pass(string check, string detail)
        {
            if (Recording)
            {
                Checks.Add(new TokenCheck(check, true, detail));
            }
        }

        /// <summary>Records a passed check; the detail is only formatted when passed checks are recorded.</summary>
        private void Pass(string check, [InterpolatedStringHandlerArgument("")] ref PassDetail detail)
        {
            if (Recording)
            {
                Checks.Add(new TokenCheck(check, true, detail.ToStringAndClear()));
            }
        }

        public async ValueTask<ConsumerIdentity?> ValidateAsync(string? token, CancellationToken cancellationToken)
        {
            if (string.IsNullOrEmpty(token))
            {
                throw new Refusal(OAuthErrors.InvalidRequest, "format", "No token was given.");
            }

            if (token.Length > settings.MaxTokenLength)
            {
                throw Invalid("size", $"The token is {token.Length} characters; the limit is {settings.MaxTokenLength}.");
            }

            var jws = token;
            switch (token.AsSpan().Count('.') + 1)
            {
                case 3:
                    Pass("format", "compact JWS (3 segments)");
                    break;
                case 5:
                    Pass("format", "compact JWE (5 segments)");
                    jws = Decrypt(token.Split('.'));
                    break;
                case var segments:
                    throw Invalid("format", $"A token has 3 segments (JWS) or 5 (JWE); this one has {segments}. Only compact serialization is accepted.");
            }

            var payload = await VerifySignatureAsync(jws, cancellationToken);
            Claims = payload;
            return settings.SignatureOnly ? null : CheckClaims(payload ?? throw Invalid("payload", "The payload is not a JSON object."));
        }

        private static JsonElement DecodeJson(ReadOnlySpan<char> segment, string check, string what)
        {
            if (!Base64Url.TryDecode(segment, out var bytes))
            {
                throw Invalid(check, $"The {what} is not canonical base64url (no padding, no '+' or '/').");
            }

            return StrictJson.ParseObject(bytes, out var problem) ?? throw Invalid(check, $"The {what} {problem}.");
        }

        private static void RefuseCritical(JsonElement header)
        {
            if (header.TryGetProperty("crit", out var crit))
            {
                // Parley understands no header extension, so any listed one makes the token unusable (RFC 7515 §4.1.11).
                var names = crit.ValueKind == JsonValueKind.Array ? string.Join(", ", crit.EnumerateArray().Select(c => c.ToString())) : crit.ToString();
                throw Invalid("crit", $"The header marks extensions as critical ({Clip(names)}); Parley supports none.");
            }
        }

        /// <summary>Decrypts a compact JWE and returns the signed JWT inside it.</summary>
        private string Decrypt(string[] parts)
        {
            var header = DecodeJson(parts[0], "header", "JWE protected header");
            // Compression is refused before anything else: decompressing attacker data is a denial-of-service risk.
            if (header.TryGetProperty("zip", out _))
            {
                throw Invalid("zip", "Compressed tokens (\"zip\") are refused.");
            }

            var alg = header.String("alg") ?? throw Invalid("alg", "The JWE header has no string \"alg\".");
            var enc = header.String("enc") ?? throw Invalid("enc", "The JWE header has no string \"enc\".");
            if (!JoseAlgorithms.KeyEncryption.Contains(alg))
            {
                throw Invalid("alg", $"Key management \"{Clip(alg)}\" is not accepted; use RSA-OAEP or RSA-OAEP-256 (dir, RSA1_5, PBES2, ECDH-ES and key wrap are refused).");
            }

            if (!JoseAlgorithms.ContentEncryption.Contains(enc))
            {
                throw Invalid("enc", $"Content encryption \"{Clip(enc)}\" is not accepted; use A128GCM, A256GCM, A128CBC-HS256 or A256CBC-HS512.");
            }

            RefuseCritical(header);
            System.Security.Cryptography.RSA[] keys = settings.DecryptionKey is { } first ? [first, .. settings.DecryptionKeys] : [.. settings.DecryptionKeys];
            if (keys.Length == 0)
            {
                throw Invalid("decrypt", "The token is encrypted (JWE) but no decryption key is configured for these settings.");
            }

            // During a rotation the brand may still encrypt to the older key: each live key is tried (OAEP and the tag tell).
            var plaintext = keys.Select(key => DecryptContent(parts, alg, enc, key)).FirstOrDefault(p => p is not null)
                ?? throw Invalid("decrypt", "The token could not be decrypted with Parley's key.");
            Pass("decrypt", $"{alg} + {enc}");

            if (!string.Equals(header.String("cty"), "JWT", StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid("cty", "An encrypted token must contain a signed JWT (header \"cty\": \"JWT\"); unsigned content is refused.");
            }

            string inner;
            try
            {
                inner = new UTF8Encoding(false, true).GetString(plaintext);
            }
            catch (DecoderFallbackException)
            {
                throw Invalid("cty", "The decrypted content is not text.");
            }

            return inner.AsSpan().Count('.') == 2
                ? inner
                : throw Invalid("cty", "The decrypted content is not a signed JWT (compact JWS with 3 segments).");
        }

        /// <summary>Verifies a compact JWS (exactly two dots) and returns its payload.</summary>
        private async ValueTask<JsonElement?> VerifySignatureAsync(string jws, CancellationToken cancellationToken)
        {
            var firstDot = jws.IndexOf('.', StringComparison.Ordinal);
            var secondDot = jws.IndexOf('.', firstDot + 1);
            var header = DecodeJson(jws.AsSpan(0, firstDot), "header", "JWS header");
            Header = header;
            var alg = header.TryGetProperty("alg", out var algElement) && algElement.ValueKind == JsonValueKind.String
                ? algElement.GetString()!
                : throw Invalid("alg", "The header has no string \"alg\".");
            if (alg.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid("alg", "Unsigned tokens (alg \"none\") are refused.");
            }

            if (!JoseAlgorithms.IsSignature(alg))
            {
                throw Invalid("alg", $"Algorithm \"{Clip(alg)}\" is not supported.");
            }

            if (!settings.AllowedAlgorithms.Contains(alg))
            {
                throw Invalid("alg", $"Algorithm {alg} is not allowed by these settings (allowed: {string.Join(", ", settings.AllowedAlgorithms)}).");
            }

            Pass("alg", alg);
            RefuseCritical(header);
            if (header.TryGetProperty("typ", out var typElement))
            {
                var typ = typElement.ValueKind == JsonValueKind.String ? typElement.GetString()! : "";
                var bare = typ.StartsWith("application/", StringComparison.OrdinalIgnoreCase) ? typ["application/".Length..] : typ;
                if (!settings.AcceptedTypes.Any(t => string.Equals(t, bare, StringComparison.OrdinalIgnoreCase)))
                {
                    throw Invalid("typ", $"Header \"typ\" is \"{Clip(typ)}\"; expected {string.Join(" or ", settings.AcceptedTypes)}.");
                }
            }

            string? kid = null;
            if (header.TryGetProperty("kid", out var kidElement))
            {
                kid = kidElement.ValueKind == JsonValueKind.String && kidElement.GetString()!.Length is > 0 and <= 256
                    ? kidElement.GetString()
                    : throw Invalid("kid", "Header \"kid\" must be a string of 1 to 256 characters.");
            }

            var signature = DecodeBytes(jws.AsSpan(secondDot + 1), "signature", "signature");
            if (!Base64Url.TryDecode(jws.AsSpan(firstDot + 1, secondDot - firstDot - 1), out var payloadBytes))
            {
                throw Invalid("payload", "The payload is not canonical base64url.");
            }

            var candidates = await CandidatesAsync(alg, kid, cancellationToken);
            if (!VerifiesWithAny(candidates, alg, jws.AsSpan(0, secondDot), signature))
            {
                throw Invalid("signature", kid is null && candidates.Count > 1
                    ? $"The signature does not verify with any of the {candidates.Count} {alg} keys."
                    : "The signature does not verify.");
            }

            Pass("signature", $"{alg}, verified{(kid is null ? "" : " with kid " + Clip(kid))}");
            if (settings.SignatureOnly)
            {
                // Only the signature is checked: the payload is whatever was signed, JSON or not.
                SignedPayload = payloadBytes;
                return StrictJson.ParseObject(payloadBytes, out _);
            }

            return StrictJson.ParseObject(payloadBytes, out var problem) ?? throw Invalid("payload", $"The payload {problem}.");
        }

        /// <summary>True when one of the keys verifies the signature over the signing input (the token up to its second dot).</summary>
        private static bool VerifiesWithAny(IReadOnlyList<VerificationKey> candidates, string alg, ReadOnlySpan<char> signingInput, byte[] signature)
        {
            // Base64url is ASCII (checked above), so the signing input is one byte per character.
            var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(signingInput.Length);
            try
            {
                var bytes = rented.AsSpan(0, Encoding.ASCII.GetBytes(signingInput, rented));
                foreach (var key in candidates)
                {
                    if (key.Verify(alg, bytes, signature))
                    {
                        return true;
                    }
                }

                return false;
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }

        private async ValueTask<IReadOnlyList<VerificationKey>> CandidatesAsync(string alg, string? kid, CancellationToken cancellationToken)
        {
            if (JoseAlgorithms.Hmac.Contains(alg) && settings.HmacSecret is { } secret)
            {
                var key = VerificationKey.FromSecret(secret, kid);
                if (!key.Supports(alg, now))
                {
                    throw Invalid("key", $"The configured secret is shorter than {alg} requires ({alg[2..]} bits).");
                }

                // During a rotation the secret before it still verifies.
                return settings.PreviousHmacSecret is { } previous && VerificationKey.FromSecret(previous, kid) is var before && before.Supports(alg, now)
                    ? [key, before]
                    : [key];
            }

            try
            {
                var set = await keySource.GetKeysAsync(null, cancellationToken);
                var candidates = set.Candidates(alg, kid, now);
                if (candidates.Count == 0 && kid is not null && !set.ContainsKid(kid))
                {
                    // An unknown kid may mean the brand rotated its keys: ask once (the source rate-limits).
                    set = await keySource.GetKeysAsync(kid, cancellationToken);
                    candidates = set.Candidates(alg, kid, now);
                }

                if (candidates.Count == 0)
                {
                    throw Invalid("key", kid is null
                        ? $"No key of the brand can verify {alg}."
                        : $"No key with kid \"{Clip(kid)}\" can verify {alg} (unknown kid, expired key, or a key for another algorithm).");
                }

                Pass("key", $"{candidates.Count} candidate key(s)");
                return candidates;
            }
            catch (KeySourceUnavailableException unavailable)
            {
                throw new Refusal(OAuthErrors.TemporarilyUnavailable, "key", "The brand's keys are unavailable: " + unavailable.Message);
            }
        }

        /// <summary>
        /// The payload's members in one pass: the registered claims Parley checks, and every other
        /// scalar claim as verified data. (Duplicate members were refused when the payload was parsed.)
        /// </summary>
        private sealed class Payload
        {
            public JsonElement Iss, Aud, Exp, Nbf, Iat, Sub, Nonce, Azp, Acr, Contexts, AuthTime, Amr;

            public Dictionary<string, string> Verified { get; } = new(StringComparer.Ordinal);

            public static Payload Read(JsonElement claims)
            {
                var payload = new Payload();
                foreach (var claim in claims.EnumerateObject())
                {
                    var value = claim.Value;
                    if (claim.NameEquals("iss"u8)) { payload.Iss = value; }
                    else if (claim.NameEquals("aud"u8)) { payload.Aud = value; }
                    else if (claim.NameEquals("exp"u8)) { payload.Exp = value; }
                    else if (claim.NameEquals("nbf"u8)) { payload.Nbf = value; }
                    else if (claim.NameEquals("iat"u8)) { payload.Iat = value; }
                    else if (claim.NameEquals("sub"u8)) { payload.Sub = value; }
                    else if (claim.NameEquals("nonce"u8)) { payload.Nonce = value; }
                    else if (claim.NameEquals("azp"u8)) { payload.Azp = value; }
                    else if (claim.NameEquals("acr"u8)) { payload.Acr = value; }
                    else if (claim.NameEquals("lwicontexts"u8)) { payload.Contexts = value; }
                    else if (claim.NameEquals("auth_time"u8)) { payload.AuthTime = value; }
                    else if (claim.NameEquals("amr"u8)) { payload.Amr = value; }
                    else if (claim.NameEquals("jti"u8)
                             || claim.NameEquals("at_hash"u8) || claim.NameEquals("c_hash"u8) || claim.NameEquals("sid"u8))
                    {
                        // Protocol claims: checked by the identity provider's flow, not shown to agents.
                    }
                    else if (Scalar(value) is { } scalar)
                    {
                        payload.Verified[claim.Name] = scalar;
                    }
                }

                return payload;
            }
        }

        private static string? Text(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        private ConsumerIdentity CheckClaims(JsonElement payloadElement)
        {
            var claims = Payload.Read(payloadElement);
            var issuer = Text(claims.Iss) ?? throw Invalid("iss", "Claim \"iss\" is missing or not a string.");
            if (settings.Issuer is null || !string.Equals(issuer, settings.Issuer, StringComparison.Ordinal))
            {
                throw Invalid("iss", $"Issuer \"{Clip(issuer)}\" is not the configured issuer \"{settings.Issuer}\".");
            }

            Pass("iss", issuer);
            CheckAudience(claims.Aud, claims.Azp);
            var skew = settings.ClockSkew;
            var expires = Date(claims.Exp, "exp") ?? throw Invalid("exp", "Claim \"exp\" is required.");
            if (now >= expires + skew)
            {
                throw Invalid("exp", $"The token expired at {expires:O} (now {now:O}, clock skew {skew.TotalSeconds:0} s).");
            }

            Pass("exp", $"{Stamp(expires)}");
            if (Date(claims.Nbf, "nbf") is { } notBefore)
            {
                if (now + skew < notBefore)
                {
                    throw Invalid("nbf", $"The token is not valid before {notBefore:O} (now {now:O}).");
                }

                Pass("nbf", $"{Stamp(notBefore)}");
            }

            var issuedAt = Date(claims.Iat, "iat");
            if (issuedAt is null && (settings.RequireIssuedAt || settings.MaxTokenAge is not null))
            {
                throw Invalid("iat", "Claim \"iat\" is required.");
            }

            if (issuedAt is { } iat)
            {
                if (iat > now + skew)
                {
                    throw Invalid("iat", $"The token claims to be issued in the future ({iat:O}, now {now:O}).");
                }

                if (settings.MaxTokenAge is { } maxAge && now - iat > maxAge + skew)
                {
                    throw Invalid("max_age", $"The token was issued at {iat:O}, more than {maxAge.TotalSeconds:0} s ago.");
                }

                Pass("iat", $"{Stamp(iat)}");
            }

            var subject = Text(claims.Sub);
            if (string.IsNullOrEmpty(subject))
            {
                throw Invalid("sub", "Claim \"sub\" is required: a non-empty string identifying the visitor.");
            }

            Pass("sub", "present");
            if (settings.ExpectedNonce is { } nonce)
            {
                if (!string.Equals(Text(claims.Nonce), nonce, StringComparison.Ordinal))
                {
                    throw Invalid("nonce", "Claim \"nonce\" is missing or is not the nonce Parley sent.");
                }

                Pass("nonce", "matches");
            }
            else if (settings.ReservedNoncePrefix is { } reserved && Text(claims.Nonce) is { } unbound
                     && unbound.StartsWith(reserved, StringComparison.Ordinal))
            {
                throw Invalid("nonce", "This token answers a login Parley started (it carries Parley's nonce): it counts only once, together with that login's state.");
            }

            var authTime = Date(claims.AuthTime, "auth_time");
            if (authTime > now + skew)
            {
                throw Invalid("auth_time", $"The token says the visitor authenticated in the future ({authTime:O}, now {now:O}).");
            }

            var amr = Methods(claims.Amr);
            var contexts = ContextVariables(claims.Contexts);
            RefuseControlCharacters(subject, claims.Verified, contexts, Text(claims.Acr));
            return new ConsumerIdentity(issuer, subject, claims.Verified, contexts, Text(claims.Acr), expires, issuedAt, authTime, amr);
        }

        /// <summary>The <c>amr</c> claim: a JSON array of strings (OpenID Connect Core §2), or null when absent.</summary>
        private static string[]? Methods(JsonElement amr) => amr.ValueKind switch
        {
            JsonValueKind.Undefined => null,
            JsonValueKind.Array when amr.GetArrayLength() <= 20 && amr.EnumerateArray().All(m => m.ValueKind == JsonValueKind.String
                && m.GetString()! is { Length: > 0 and <= 100 } method && !method.Any(char.IsControl)) => [.. amr.EnumerateArray().Select(m => m.GetString()!)],
            _ => throw Invalid("amr", "Claim \"amr\" must be an array of at most 20 short strings without control characters."),
        };

        /// <summary>
        /// What Parley stores of the identity holds no C0 control character (tab and line breaks
        /// aside): a NUL cannot be stored as text, and no IdP has a reason to send one.
        /// </summary>
        private static void RefuseControlCharacters(
            string subject, Dictionary<string, string> verified, Dictionary<string, string> contexts, string? acr)
        {
            static bool Control(string? value) => value is not null && value.Any(c => c < ' ' && c is not ('\t' or '\n' or '\r'));
            var offending = Control(subject) ? "sub"
                : Control(acr) ? "acr"
                : verified.FirstOrDefault(c => Control(c.Key) || Control(c.Value)).Key
                ?? contexts.FirstOrDefault(c => Control(c.Key) || Control(c.Value)).Key;
            if (offending is not null)
            {
                throw Invalid("claims", $"Claim \"{Clip(offending)}\" holds a control character; Parley stores claims as text and refuses them.");
            }
        }

        private void CheckAudience(JsonElement aud, JsonElement azp)
        {
            if (aud.ValueKind == JsonValueKind.Undefined)
            {
                throw Invalid("aud", "Claim \"aud\" is missing.");
            }

            // Compared in place (ValueEquals): the common single audience allocates nothing.
            var (count, contains) = aud.ValueKind switch
            {
                JsonValueKind.String => (1, settings.Audience is not null && aud.ValueEquals(settings.Audience)),
                JsonValueKind.Array when aud.EnumerateArray().All(a => a.ValueKind == JsonValueKind.String) =>
                    (aud.GetArrayLength(), settings.Audience is not null && aud.EnumerateArray().Any(a => a.ValueEquals(settings.Audience))),
                _ => throw Invalid("aud", "Claim \"aud\" must be a string or an array of strings."),
            };
            if (!contains)
            {
                throw Invalid("aud", $"The audience does not include \"{settings.Audience}\".");
            }

            if (count > 1 && !string.Equals(Text(azp), settings.Audience, StringComparison.Ordinal))
            {
                throw Invalid("azp", $"The token has several audiences, so \"azp\" must be \"{settings.Audience}\".");
            }

            Pass("aud", settings.Audience!);
        }

        private static string Stamp(DateTimeOffset value) => value.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        private static DateTimeOffset? Date(JsonElement value, string name)
        {
            if (value.ValueKind == JsonValueKind.Undefined)
            {
                return null;
            }

            // NumericDate: seconds since the epoch, a JSON number (RFC 7519 §2); strings are refused.
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds) || !double.IsFinite(seconds) || seconds < 0 || seconds > 253_402_300_799)
            {
                throw Invalid(name, $"Claim \"{name}\" must be a NumericDate (a JSON number of seconds since 1970).");
            }

            return DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond));
        }

        private static Dictionary<string, string> ContextVariables(JsonElement contexts)
        {
            if (contexts.ValueKind == JsonValueKind.Undefined)
            {
                return [];
            }

            // Dynamics sends the context variables as a JSON string holding an object.
            var obj = contexts.ValueKind switch
            {
                JsonValueKind.Object => contexts,
                JsonValueKind.String => StrictJson.ParseObject(Encoding.UTF8.GetBytes(contexts.GetString()!), out var problem)
                    ?? throw Invalid("lwicontexts", $"Claim \"lwicontexts\" {problem}; it must hold a JSON object."),
                _ => throw Invalid("lwicontexts", "Claim \"lwicontexts\" must be a JSON object or a string holding one."),
            };
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var variable in obj.EnumerateObject())
            {
                if (Scalar(variable.Value) is { } value)
                {
                    variables[variable.Name] = value;
                }
            }

            return variables;
        }

        private static string? Scalar(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }

    private static byte[] DecodeBytes(ReadOnlySpan<char> segment, string check, string what) =>
        Base64Url.TryDecode(segment, out var bytes) ? bytes : throw Invalid(check, $"The {what} is not canonical base64url.");

    private static string Clip(string value)
    {
        var printable = new string(value.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return printable.Length <= 60 ? printable : printable[..60] + "…";
    }
}
