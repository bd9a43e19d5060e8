using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Parley.Identity.Tokens;
using static Parley.Identity.Tests.TokenFactory;

namespace Parley.Identity.Tests;

/// <summary>
/// Property tests of the token parser and validator: arbitrary input never escapes as an exception
/// (not even into the validator's last-resort "internal" refusal), and never validates.
/// </summary>
public sealed class TokenFuzzTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly TokenValidator Validator = new(new ManualTime(Now));
    private static readonly TokenValidationSettings Settings = new() { Issuer = Issuer, Audience = Audience, DecryptionKey = ParleyEncryptionKey };
    private static readonly string Good = Sign("RS256", Claims(Now));
    private const int Samples = 2000;

    private static Task<TokenValidationResult> ValidateAsync(string? token) =>
        Validator.ValidateAsync(token, Settings, RefusalTests.Keys(), CancellationToken.None);

    /// <summary>
    /// The validator is async, FsCheck's properties here are not: draw the inputs from the
    /// generator and check each (the failing input is in the assertion message).
    /// </summary>
    private static async Task AllRefusedAsync(Gen<string> inputs)
    {
        foreach (var token in inputs.Sample(Samples, 50))
        {
            var result = await ValidateAsync(token);
            Assert.True(RefusedCleanly(result), $"not refused cleanly ({result.IsValid}, {result.Error}, {result.FailedCheck}: {result.Description}): {token}");
        }
    }

    private static bool RefusedCleanly(TokenValidationResult result) =>
        !result.IsValid && result.Identity is null && result.FailedCheck is not null and not "internal" && result.Error is not null;

    [Fact]
    public async Task The_valid_token_the_mutations_start_from_is_valid()
    {
        Assert.True((await ValidateAsync(Good)).IsValid);
    }

    [Fact]
    public Task Arbitrary_bytes_are_refused_cleanly() =>
        AllRefusedAsync(ArbMap.Default.GeneratorFor<byte[]>().Select(bytes => Encoding.UTF8.GetString(bytes ?? [])));

    [Fact]
    public Task Arbitrary_strings_shaped_like_compact_tokens_are_refused_cleanly()
    {
        var segment = Gen.Elements("", "e30", "eyJhbGciOiJSUzI1NiJ9", "eyJhbGciOiJub25lIn0", "eyJ9", "AAAA", "_-_-", "%%", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ");
        return AllRefusedAsync(Gen.ListOf(segment).Select(parts => string.Join('.', parts)));
    }

    [Fact]
    public Task Any_single_character_changed_inserted_or_deleted_in_a_valid_token_is_refused()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
        var mutations =
            from position in Gen.Choose(0, Good.Length - 1)
            from kind in Gen.Choose(0, 2)
            from c in Gen.Elements(alphabet.ToCharArray())
            select kind switch
            {
                0 => Good[..position] + c + Good[(position + 1)..],
                1 => Good[..position] + c + Good[position..],
                _ => Good[..position] + Good[(position + 1)..],
            };
        return AllRefusedAsync(mutations.Where(t => t != Good));
    }
}
