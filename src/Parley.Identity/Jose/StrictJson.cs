using System.Text.Json;

namespace Parley.Identity.Jose;

/// <summary>JSON parsing for security decisions: well-formed UTF-8, objects only, and no member named twice at any depth.</summary>
internal static class StrictJson
{
    // .NET's own duplicate detection (faster than a separate pass here, measured) compares names
    // after unescaping: "a" and "\u0061" are the same member.
    private static readonly JsonDocumentOptions Options = new()
    {
        MaxDepth = 32,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        AllowDuplicateProperties = false,
    };

    private const string DuplicatePrefix = "Duplicate property '";

    /// <summary>The parsed object, or null with a reason.</summary>
    public static JsonElement? ParseObject(ReadOnlySpan<byte> utf8, out string? problem) => Parse(utf8, allowArray: false, out problem);

    /// <summary>The parsed object or array, or null with a reason.</summary>
    public static JsonElement? ParseObjectOrArray(ReadOnlySpan<byte> utf8, out string? problem) => Parse(utf8, allowArray: true, out problem);

    private static JsonElement? Parse(ReadOnlySpan<byte> utf8, bool allowArray, out string? problem)
    {
        problem = null;

        // The reader checks the structure, not the bytes inside strings: invalid UTF-8 in a value
        // (a "kid", a claim) would only fail later, when it is read (found by TokenFuzzTests).
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            problem = "is not valid UTF-8";
            return null;
        }

        JsonElement root;
        try
        {
            // The element owns its memory: no copy of the input to keep, nothing to dispose.
            root = JsonElement.Parse(utf8, Options);
        }
        catch (JsonException exception)
        {
            // The runtime names the member in its message; if that wording ever changes, the
            // token is still refused, only with the general reason.
            problem = exception.Message.StartsWith(DuplicatePrefix, StringComparison.Ordinal)
                ? $"names member \"{DuplicateName(exception.Message)}\" more than once"
                : "is not valid JSON";
            return null;
        }

        var kind = root.ValueKind;
        if (kind != JsonValueKind.Object && !(allowArray && kind == JsonValueKind.Array))
        {
            problem = allowArray ? "is not a JSON object or array" : "is not a JSON object";
            return null;
        }

        return root;
    }

    private static string DuplicateName(string message)
    {
        var end = message.IndexOf('\'', DuplicatePrefix.Length);
        var name = end > 0 ? message[DuplicatePrefix.Length..end] : "?";
        return name.Length > 40 ? name[..40] : name;
    }

    public static string? String(this JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
