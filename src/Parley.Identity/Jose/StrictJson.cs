using System.Text.Json;

namespace Parley.Identity.Jose;

/// <summary>JSON parsing for security decisions: objects only, and no member named twice at any depth.</summary>
internal static class StrictJson
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 32, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>The parsed object, or null with a reason.</summary>
    public static JsonElement? ParseObject(ReadOnlySpan<byte> utf8, out string? problem) => Parse(utf8, allowArray: false, out problem);

    /// <summary>The parsed object or array, or null with a reason.</summary>
    public static JsonElement? ParseObjectOrArray(ReadOnlySpan<byte> utf8, out string? problem) => Parse(utf8, allowArray: true, out problem);

    private static JsonElement? Parse(ReadOnlySpan<byte> utf8, bool allowArray, out string? problem)
    {
        problem = null;
        try
        {
            using var document = JsonDocument.Parse(utf8.ToArray(), Options);
            var kind = document.RootElement.ValueKind;
            if (kind != JsonValueKind.Object && !(allowArray && kind == JsonValueKind.Array))
            {
                problem = "is not a JSON object";
                return null;
            }

            if (FindDuplicate(document.RootElement) is { } duplicate)
            {
                problem = $"names member \"{duplicate}\" more than once";
                return null;
            }

            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            problem = "is not valid JSON";
            return null;
        }
    }

    private static string? FindDuplicate(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    if (!seen.Add(property.Name))
                    {
                        return property.Name.Length > 40 ? property.Name[..40] : property.Name;
                    }

                    if (FindDuplicate(property.Value) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (FindDuplicate(item) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    public static string? String(this JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
