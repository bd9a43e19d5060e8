using System.Globalization;
using System.Text;

namespace Parley.Bots;

/// <summary>
/// A deployment's bot: an optional greeting and ordered cases. The first case whose keywords
/// occur in a consumer's message (whole words, case-insensitive) is the one the bot handles.
/// </summary>
public sealed record BotSettings
{
    public const int MaxCases = 100;

    public string? Greeting { get; init; }

    public IReadOnlyList<BotCase> Cases { get; init; } = [];

    /// <summary>The case a consumer's message asks for, or null.</summary>
    public BotCase? Match(string text)
    {
        var words = " " + Normalize(text) + " ";
        return Cases.FirstOrDefault(c => c.Keywords.Any(k => words.Contains(" " + Normalize(k) + " ", StringComparison.Ordinal)));
    }

    public BotCase? Find(string? name) =>
        name is null ? null : Cases.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));

    /// <summary>Null when the settings are usable; otherwise what is wrong, naming the case.</summary>
    public string? Validate()
    {
        if (Greeting is { Length: > 2000 })
        {
            return "greeting is longer than 2000 characters.";
        }

        if (Cases.Count > MaxCases)
        {
            return $"A bot has at most {MaxCases} cases.";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Cases.Count; i++)
        {
            var c = Cases[i];
            var where = $"cases[{i}]";
            if (c is null)
            {
                return $"{where} is null.";
            }

            if (string.IsNullOrWhiteSpace(c.Name) || c.Name.Length > 100)
            {
                return $"{where}.name is required (1 to 100 characters).";
            }

            if (!names.Add(c.Name))
            {
                return $"{where}.name \"{c.Name}\" is used by an earlier case.";
            }

            if (c.Keywords is not { Count: > 0 and <= 50 } || c.Keywords.Any(k => Normalize(k ?? "").Length is 0 or > 100))
            {
                return $"{where}.keywords needs 1 to 50 keywords, each with at least one letter or digit and at most 100 characters.";
            }

            if (string.IsNullOrWhiteSpace(c.Answer) && !c.HandOver)
            {
                return $"{where} needs an answer, or handOver: true.";
            }

            if (c.Answer is { Length: > 4000 })
            {
                return $"{where}.answer is longer than 4000 characters.";
            }

            if (c.Acr is { } acr && (acr.Length is 0 or > 500 || acr.Any(ch => char.IsControl(ch) || ch is '"' or '\\') || acr.Trim().Length == 0))
            {
                return $"{where}.acr is a space-separated list of acceptable acr values (at most 500 characters, no control characters or quotes).";
            }

            if (c.MaxLoginAgeSeconds is < 0 or > BotCase.LongestLoginAge)
            {
                return $"{where}.maxLoginAgeSeconds is between 0 and {BotCase.LongestLoginAge} (thirty days).";
            }
        }

        return null;
    }

    /// <summary>Lower case, letters and digits kept, everything else one space.</summary>
    private static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length);
        var space = false;
        foreach (var ch in text.ToLower(CultureInfo.InvariantCulture))
        {
            if (char.IsLetterOrDigit(ch))
            {
                if (space && builder.Length > 0)
                {
                    builder.Append(' ');
                }

                builder.Append(ch);
                space = false;
            }
            else
            {
                space = true;
            }
        }

        return builder.ToString();
    }
}

/// <summary>
/// Something the bot recognises (Pega: a case; Dynamics/Genesys: an intent). It answers, hands the
/// conversation to an agent (optionally in a queue), or both. With
/// <see cref="RequiresAuthentication"/>, an anonymous consumer is first sent a login link and the
/// case continues once they have logged in. <see cref="Acr"/> (acceptable <c>acr</c> values,
/// space-separated) and <see cref="MaxLoginAgeSeconds"/> ask more of that login: a conversation
/// whose login is weaker or older is asked to log in again (step up) for this case only.
/// </summary>
public sealed record BotCase(
    string Name,
    IReadOnlyList<string> Keywords,
    string? Answer,
    bool RequiresAuthentication = false,
    bool HandOver = false,
    string? Queue = null,
    string? Acr = null,
    int? MaxLoginAgeSeconds = null)
{
    /// <summary>The longest <see cref="MaxLoginAgeSeconds"/>: thirty days.</summary>
    public const int LongestLoginAge = 30 * 24 * 3600;

    /// <summary>Whether the case needs a logged-in customer (it does when it asks for an assurance level or a login age).</summary>
    public bool NeedsLogin => RequiresAuthentication || Assurance is not null;

    /// <summary>What the case asks of the login beyond who the customer is, or null.</summary>
    public Authentication.LoginAssurance? Assurance =>
        Acr is null && MaxLoginAgeSeconds is null ? null : new Authentication.LoginAssurance(Acr, MaxLoginAgeSeconds);
}
