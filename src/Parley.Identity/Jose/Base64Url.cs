using System.Buffers;

namespace Parley.Identity.Jose;

/// <summary>Base64url without padding (RFC 7515 §2), decoded strictly: one canonical spelling per byte string.</summary>
public static class Base64Url
{
    private const string AlphabetCharacters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    private static readonly SearchValues<char> Alphabet = SearchValues.Create(AlphabetCharacters);
    private static readonly sbyte[] Values = BuildValues();

    private static sbyte[] BuildValues()
    {
        var values = new sbyte[128];
        Array.Fill(values, (sbyte)-1);
        for (var i = 0; i < AlphabetCharacters.Length; i++)
        {
            values[AlphabetCharacters[i]] = (sbyte)i;
        }

        return values;
    }

    public static string Encode(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    /// <summary>
    /// Decodes, refusing padding, '+' and '/', whitespace, impossible lengths, and non-zero unused
    /// bits in the last character (so two different strings never decode to the same bytes).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = [];
        var remainder = text.Length % 4;
        // Only the 64 alphabet characters (no padding, '+', '/' or whitespace), checked vectorized;
        // then the unused low bits of a final partial group must be zero.
        if (remainder == 1
            || text.ContainsAnyExcept(Alphabet)
            || (remainder == 2 && (Value(text[^1]) & 0x0F) != 0)
            || (remainder == 3 && (Value(text[^1]) & 0x03) != 0))
        {
            return false;
        }

        var output = new byte[text.Length * 3 / 4];
        if (System.Buffers.Text.Base64Url.DecodeFromChars(text, output, out _, out var written) != OperationStatus.Done || written != output.Length)
        {
            return false;
        }

        bytes = output;
        return true;
    }

    private static int Value(char c) => c < 128 ? Values[c] : -1;
}
