namespace Parley.Identity.Jose;

/// <summary>Base64url without padding (RFC 7515 §2), decoded strictly: one canonical spelling per byte string.</summary>
public static class Base64Url
{
    private static readonly sbyte[] Values = BuildValues();

    private static sbyte[] BuildValues()
    {
        var values = new sbyte[128];
        Array.Fill(values, (sbyte)-1);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (var i = 0; i < alphabet.Length; i++)
        {
            values[alphabet[i]] = (sbyte)i;
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
        if (remainder == 1)
        {
            return false;
        }

        var output = new byte[text.Length * 3 / 4];
        var o = 0;
        var i = 0;
        for (; i + 4 <= text.Length; i += 4)
        {
            int a = Value(text[i]), b = Value(text[i + 1]), c = Value(text[i + 2]), d = Value(text[i + 3]);
            if ((a | b | c | d) < 0)
            {
                return false;
            }

            var v = (a << 18) | (b << 12) | (c << 6) | d;
            output[o++] = (byte)(v >> 16);
            output[o++] = (byte)(v >> 8);
            output[o++] = (byte)v;
        }

        if (remainder == 2)
        {
            int a = Value(text[i]), b = Value(text[i + 1]);
            if ((a | b) < 0 || (b & 0x0F) != 0)
            {
                return false;
            }

            output[o] = (byte)((a << 2) | (b >> 4));
        }
        else if (remainder == 3)
        {
            int a = Value(text[i]), b = Value(text[i + 1]), c = Value(text[i + 2]);
            if ((a | b | c) < 0 || (c & 0x03) != 0)
            {
                return false;
            }

            output[o++] = (byte)((a << 2) | (b >> 4));
            output[o] = (byte)(((b & 0x0F) << 4) | (c >> 2));
        }

        bytes = output;
        return true;
    }

    private static int Value(char c) => c < 128 ? Values[c] : -1;
}
