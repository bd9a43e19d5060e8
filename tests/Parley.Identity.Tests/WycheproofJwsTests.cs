using System.Text.Json;
using Parley.Identity.Jose;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;

namespace Parley.Identity.Tests;

/// <summary>
/// Project Wycheproof's JWS vectors through the validator in signature-only mode (what
/// <c>parley token check --no-claims</c> runs): every valid one verifies and yields its payload,
/// whatever the payload is; every invalid one is refused.
/// </summary>
public sealed class WycheproofJwsTests
{
    private static readonly JsonElement Vectors = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "vectors", "wycheproof", "json_web_signature_test.json"))).RootElement;

    /// <summary>Vectors Parley refuses although Wycheproof calls them valid, and why (docs/security.md lists them too).</summary>
    private static readonly Dictionary<int, string> StricterThanWycheproof = new()
    {
        [346] = "PS384 with a key whose JWK \"alg\" is PS256: a key is used only for its own alg (RFC 7517 4.4)",
        [350] = "the same as 346 (RFC 7520 figure 20)",
        [347] = "ES512 with a key whose JWK \"alg\" is \"ES521\", which is no algorithm: a key is used only for its own alg",
        [351] = "the same as 347 (RFC 7520 figure 27)",
        [372] = "a '?' inside the header's base64url: a JWS part is canonical base64url, nothing else (RFC 7515 2 and 7.1)",
        [373] = "a '?' inside the payload's base64url: the same",
    };

    /// <summary>
    /// Vectors Wycheproof calls invalid that are byte for byte its valid vector 357 (their padding
    /// was lost from the corpus): Parley accepts them, as it must accept 357.
    /// </summary>
    private static readonly Dictionary<int, string> CorpusErrors = new()
    {
        [367] = "invalidBase64Padding: the same string as valid vector 357",
        [370] = "invalidBase64PaddingInPayload: the same string as valid vector 357",
    };

    public static TheoryData<int, string, string> Cases()
    {
        var cases = new TheoryData<int, string, string>();
        foreach (var group in Vectors.GetProperty("testGroups").EnumerateArray())
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                cases.Add(test.GetProperty("tcId").GetInt32(), test.GetProperty("comment").GetString()!, test.GetProperty("result").GetString()!);
            }
        }

        return cases;
    }

    [Fact]
    public void The_corpus_is_the_whole_file()
    {
        Assert.Equal(Vectors.GetProperty("numberOfTests").GetInt32(), Cases().Count);
        Assert.Equal(46, Cases().Count(c => (string)c[2] == "valid"));
        Assert.Equal(40, Cases().Count(c => (string)c[2] == "valid" && !StricterThanWycheproof.ContainsKey((int)c[0])));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_vector_gets_the_result_wycheproof_expects(int id, string comment, string expected)
    {
        var (group, test) = Find(id);
        var key = group.TryGetProperty("public", out var pub) ? pub : group.GetProperty("private");
        var jws = test.GetProperty("jws").GetString()!;
        var settings = new TokenValidationSettings
        {
            SignatureOnly = true,
            AllowedAlgorithms = [.. JoseAlgorithms.DefaultAllowed, .. JoseAlgorithms.Hmac],
        };
        var result = await new TokenValidator(TimeProvider.System).ValidateAsync(
            jws, settings, new StaticKeySource(KeySetParser.Parse("{\"keys\":[" + key.GetRawText() + "]}", allowSymmetric: true)), CancellationToken.None);

        if (CorpusErrors.ContainsKey(id))
        {
            Assert.Equal(Find(357).Test.GetProperty("jws").GetString(), jws);
        }

        if ((expected == "valid" && !StricterThanWycheproof.ContainsKey(id)) || CorpusErrors.ContainsKey(id))
        {
            Assert.True(result.IsValid, $"{id} {comment}: {result.FailedCheck} {result.Description}");
            Assert.True(Base64Url.TryDecode(jws.Split('.')[1], out var payload));
            Assert.Equal(payload, result.Payload!.Value.ToArray());
        }
        else
        {
            Assert.False(result.IsValid, $"{id} {comment} ({expected}) was accepted");
            Assert.Contains(result.Error, new[] { OAuthErrors.InvalidToken, OAuthErrors.InvalidRequest }); // invalid_request: no token at all
            Assert.Null(result.Payload);
        }
    }

    private static (JsonElement Group, JsonElement Test) Find(int id)
    {
        foreach (var group in Vectors.GetProperty("testGroups").EnumerateArray())
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                if (test.GetProperty("tcId").GetInt32() == id)
                {
                    return (group, test);
                }
            }
        }

        throw new ArgumentOutOfRangeException(nameof(id));
    }
}
