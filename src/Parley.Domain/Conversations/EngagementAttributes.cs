using System.Collections.ObjectModel;
using System.Text.Json;

namespace Parley.Conversations;

/// <summary>
/// Unverified data the page passes about the visit (cart, page, campaign). Never used as proof
/// of identity; agents see it apart from verified claims.
/// </summary>
public sealed class EngagementAttributes : ReadOnlyDictionary<string, string>
{
    public const int MaxCount = 50;
    public const int MaxKeyLength = 64;
    public const int MaxValueLength = 1024;

    public static new readonly EngagementAttributes Empty = new(new Dictionary<string, string>());

    public EngagementAttributes(IDictionary<string, string> values)
        : base(new Dictionary<string, string>(values, StringComparer.Ordinal))
    {
    }

    /// <summary>Returns a description of what is wrong, or null when the values are acceptable.</summary>
    public static string? Validate(IReadOnlyDictionary<string, string> values)
    {
        if (values.Count > MaxCount)
        {
            return $"at most {MaxCount} engagement attributes are accepted";
        }

        foreach (var (key, value) in values)
        {
            if (key.Length is 0 or > MaxKeyLength)
            {
                return $"attribute names must be 1 to {MaxKeyLength} characters";
            }

            if (value.Length > MaxValueLength)
            {
                return $"attribute '{key}' is longer than {MaxValueLength} characters";
            }

            if ((PlainText.Problem("an attribute name", key) ?? PlainText.Problem($"attribute '{key}'", value)) is { } control)
            {
                return control;
            }
        }

        return null;
    }

    public string ToJson() => JsonSerializer.Serialize(this, DomainJsonContext.Default.IReadOnlyDictionaryStringString);

    public static EngagementAttributes FromJson(string? json) =>
        string.IsNullOrEmpty(json)
            ? Empty
            : new EngagementAttributes(
                JsonSerializer.Deserialize(json, DomainJsonContext.Default.DictionaryStringString) ?? []);
}
