using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Parley.Identity.Jose;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;

namespace Parley.Identity.CodeFlow;

public enum ClientAuthentication
{
    /// <summary>HTTP Basic with the form-encoded client id and secret (RFC 6749 §2.3.1).</summary>
    ClientSecretBasic,

    /// <summary>client_id and client_secret in the form body.</summary>
    ClientSecretPost,
}

/// <summary>One authorization-code exchange: where, who Parley is, and what the authorize request used.</summary>
public sealed record CodeExchangeRequest(
    Uri TokenEndpoint,
    string ClientId,
    string ClientSecret,
    ClientAuthentication Authentication,
    string Code,
    string RedirectUri,
    string? CodeVerifier);

/// <summary>
/// The OAuth 2.0 code exchange (RFC 6749 §4.1.3) for OpenID Connect: posts the code, reads the
/// token response, and validates the id_token (signature required; nonce, iat as OIDC Core 3.1.3.7).
/// </summary>
public sealed class CodeExchangeClient(HttpClient http, TokenValidator validator, KeySourceOptions options)
{
    public async Task<TokenValidationResult> ExchangeAsync(
        CodeExchangeRequest request, TokenValidationSettings settings, IKeySource keys, CancellationToken cancellationToken)
    {
        try
        {
            options.RequireAllowedUrl(request.TokenEndpoint, "token endpoint");
        }
        catch (ArgumentException exception)
        {
            return Refused(OAuthErrors.ServerError, "token_endpoint", exception.Message);
        }

        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "authorization_code"),
            new("code", request.Code),
            new("redirect_uri", request.RedirectUri),
        };
        if (request.CodeVerifier is not null)
        {
            form.Add(new("code_verifier", request.CodeVerifier));
        }

        using var message = new HttpRequestMessage(HttpMethod.Post, request.TokenEndpoint);
        if (request.Authentication == ClientAuthentication.ClientSecretBasic)
        {
            var credentials = $"{Uri.EscapeDataString(request.ClientId)}:{Uri.EscapeDataString(request.ClientSecret)}";
            message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }
        else
        {
            form.Add(new("client_id", request.ClientId));
            form.Add(new("client_secret", request.ClientSecret));
        }

        message.Content = new FormUrlEncodedContent(form);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        string body;
        HttpStatusCode status;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.FetchTimeout);
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            status = response.StatusCode;
            if (await KeyDocumentFetcher.ReadBoundedAsync(response.Content, options.MaxResponseBytes, timeout.Token) is not { } text)
            {
                return Refused(OAuthErrors.ServerError, "token_response", "The token endpoint's response is too large.");
            }

            body = text;
        }
        catch (DecoderFallbackException)
        {
            return Refused(OAuthErrors.ServerError, "token_response", "The token endpoint's response is not UTF-8 text.");
        }
        catch (HttpRequestException exception) when (exception.InnerException is OutboundAddressRefusedException refused)
        {
            return Refused(OAuthErrors.ServerError, "token_endpoint", refused.Message);
        }
        catch (Exception exception) when (exception is HttpRequestException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return Refused(OAuthErrors.TemporarilyUnavailable, "token_endpoint", "The token endpoint " + KeyDocumentFetcher.Unreachable(request.TokenEndpoint, options));
        }

        var json = StrictJson.ParseObject(Encoding.UTF8.GetBytes(body), out _);
        if ((int)status >= 500)
        {
            return Refused(OAuthErrors.TemporarilyUnavailable, "token_endpoint", $"The token endpoint answered HTTP {(int)status}.");
        }

        if (status != HttpStatusCode.OK)
        {
            var error = json?.String("error");
            var code = error switch
            {
                OAuthErrors.InvalidGrant or OAuthErrors.InvalidClient or OAuthErrors.UnauthorizedClient or OAuthErrors.InvalidRequest
                    or OAuthErrors.UnsupportedGrantType or OAuthErrors.InvalidScope or OAuthErrors.TemporarilyUnavailable => error,
                _ => OAuthErrors.ServerError,
            };
            // The IdP's own words only for a real OAuth error answer, never parts of whatever else answered.
            var described = code == error && json?.String("error_description") is { } d ? $": {Printable(d.Length > 200 ? d[..200] : d)}" : "";
            return Refused(code!, "token_response", $"The token endpoint refused the code (HTTP {(int)status}, {error ?? "no error code"}){described}.");
        }

        if (json is null || json.Value.String("id_token") is not { } idToken)
        {
            return Refused(OAuthErrors.ServerError, "token_response", "The token response has no id_token (was the openid scope requested?).");
        }

        if (json.Value.String("token_type") is { } type && !type.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return Refused(OAuthErrors.ServerError, "token_response", $"The token response has token_type \"{type}\", not Bearer.");
        }

        var result = await validator.ValidateAsync(idToken, settings with { RequireIssuedAt = true }, keys, cancellationToken);
        return result.IsValid || result.Error == OAuthErrors.TemporarilyUnavailable
            ? result
            : result with { Error = OAuthErrors.InvalidGrant, Description = "The id_token is not valid: " + result.Description };
    }

    private static string Printable(string text) => new([.. text.Select(c => c is >= ' ' and <= '~' ? c : '?')]);

    private static TokenValidationResult Refused(string error, string check, string description) =>
        new() { Error = error, FailedCheck = check, Description = description, Checks = [new TokenCheck(check, false, description)] };
}
