using System.Security.Cryptography;
using Parley.Identity.Jose;

namespace Parley.Identity.Tests;

public sealed class Base64UrlTests
{
    [Fact]
    public void Every_length_round_trips_and_matches_the_framework_encoder()
    {
        for (var length = 0; length < 200; length++)
        {
            var bytes = RandomNumberGenerator.GetBytes(length);
            var text = Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Assert.Equal(text, Base64Url.Encode(bytes));
            Assert.True(Base64Url.TryDecode(text, out var decoded), text);
            Assert.Equal(bytes, decoded);
        }
    }

    [Theory]
    [InlineData("QQ==")]   // padding
    [InlineData("QR")]     // unused bits set (canonical is "QQ")
    [InlineData("QUJ")]    // unused bits set (canonical is "QUI")
    [InlineData("A")]      // impossible length
    [InlineData("ab+/")]   // standard alphabet
    [InlineData("ab c")]   // whitespace
    [InlineData("abé1")]   // non-ASCII
    public void Non_canonical_spellings_are_refused(string text) => Assert.False(Base64Url.TryDecode(text, out _));
}
