namespace Parley.Identity.Jose;

/// <summary>Base64url without padding (RFC 7515 §2), decoded strictly: one canonical spelling per byte string.</summary>
public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Decodes, refusing padding, '+' and '/', whitespace, impossible lengths, and non-zero
    /// unused bits in the last character (so two different strings never decode to the same bytes).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 4 == 1)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_'))
            {
                return false;
            }
        }

        var padded = new char[text.Length + ((4 - (text.Length % 4)) % 4)];
        for (var i = 0; i < text.Length; i++)
        {
            padded[i] = text[i] switch { '-' => '+', '_' => '/', var c => c };
        }

        padded.AsSpan(text.Length).Fill('=');
        try
        {
            bytes = Convert.FromBase64CharArray(padded, 0, padded.Length);
        }
        catch (FormatException)
        {
            return false;
        }

        return text.SequenceEqual(Encode(bytes));
    }
}
