using System.Text.Json;

namespace Parley.Identity.Jose;

/// <summary>JSON parsing for security decisions: objects only, and no member named twice at any depth.</summary>
internal static class StrictJson
{
    /// <summary>The parsed object, or null with a reason.</summary>
    public static JsonElement? ParseObject(ReadOnlySpan<byte> utf8, out string? problem) => Parse(utf8, allowArray: false, out problem);

    /// <summary>The parsed object or array, or null with a reason.</summary>
    public static JsonElement? ParseObjectOrArray(ReadOnlySpan<byte> utf8, out string? problem) => Parse(utf8, allowArray: true, out problem);

    private static JsonElement? Parse(ReadOnlySpan<byte> utf8, bool allowArray, out string? problem)
    {
        problem = null;
        try
        {
            // ParseValue builds an element that owns its memory: no copy of the input, no Clone, nothing to dispose.
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 32, CommentHandling = JsonCommentHandling.Disallow });
            var root = JsonElement.ParseValue(ref reader);
            if (reader.Read())
            {
                problem = "is not valid JSON";
                return null;
            }

            var kind = root.ValueKind;
            if (kind != JsonValueKind.Object && !(allowArray && kind == JsonValueKind.Array))
            {
                problem = allowArray ? "is not a JSON object or array" : "is not a JSON object";
                return null;
            }

            if (FindDuplicate(root) is { } duplicate)
            {
                problem = $"names member \"{duplicate}\" more than once";
                return null;
            }

            return root;
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
