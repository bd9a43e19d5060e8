namespace Parley.Errors;

/// <summary>RFC 6750 <c>WWW-Authenticate</c> values, always valid header text whatever the refusal says.</summary>
public static class BearerChallenge
{
    /// <summary>
    /// <c>Bearer error="…", error_description="…"</c>. The description may quote a token's header
    /// (an <c>alg</c> or <c>kid</c> with any characters): RFC 6750 §3 allows only printable ASCII
    /// without <c>"</c> and <c>\</c> there, so anything else becomes <c>?</c>.
    /// </summary>
    public static string Of(string error, string description) =>
        $"Bearer error=\"{Printable(error)}\", error_description=\"{Printable(description)}\"";

    private static string Printable(string value) =>
        string.Create(value.Length, value, static (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                span[i] = c is >= ' ' and <= '~' and not '"' and not '\\' ? c : c == '"' ? '\'' : '?';
            }
        });
}
