using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;

namespace Parley.Server.Tests;

/// <summary><c>parley token check</c> run as the real binary: output lines, exit codes, stdin mode.</summary>
public sealed class TokenCheckCliTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("parley-cli-").FullName;
    private readonly RSA _brand = RSA.Create(2048);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Token(string audience, long expOffset = 600, long iatOffset = 0)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestTokens.Rs256(_brand, new { iss = "https://idp.brand.example", aud = audience, sub = "u-1", exp = now + expOffset, iat = now + iatOffset });
    }

    private Task<(int Exit, string Output, string Error)> RunAsync(string? stdin, params string[] args) => RunInAsync(_directory, null, stdin, args);

    /// <summary>The binary started in <paramref name="workingDirectory"/>, from a shell whose directory (<c>PWD</c>) is <paramref name="shellDirectory"/>.</summary>
    private static async Task<(int Exit, string Output, string Error)> RunInAsync(string workingDirectory, string? shellDirectory, string? stdin, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = workingDirectory,
        };
        start.Environment["PWD"] = shellDirectory ?? workingDirectory;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Parley.Server.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    private string KeyFile()
    {
        var path = Path.Combine(_directory, "brand.pub");
        File.WriteAllText(path, _brand.ExportSubjectPublicKeyInfoPem());
        return path;
    }

    [Fact]
    public async Task A_valid_token_prints_every_check_and_exits_0()
    {
        var (exit, output, _) = await RunAsync(null, "token", "check", "--keys", KeyFile(), "--issuer", "https://idp.brand.example", "--audience", "parley", Token("parley"));

        Assert.Equal(0, exit);
        var line = JsonDocument.Parse(output.Trim()).RootElement;
        Assert.True(line.GetProperty("valid").GetBoolean());
        Assert.Contains(line.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "signature" && c.GetProperty("ok").GetBoolean());
        Assert.Equal("u-1", line.GetProperty("claims").GetProperty("sub").GetString());
        Assert.Equal("RS256", line.GetProperty("header").GetProperty("alg").GetString());
    }

    [Fact]
    public async Task Tokens_from_stdin_get_one_line_each_and_any_invalid_one_exits_1()
    {
        var stdin = Token("parley") + "\n" + Token("someone-else") + "\n" + Token("parley", expOffset: -3600) + "\n";
        var (exit, output, _) = await RunAsync(stdin, "token", "check", "--keys", KeyFile(), "--issuer", "https://idp.brand.example", "--audience", "parley", "-");

        Assert.Equal(1, exit);
        var lines = output.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, lines.Count);
        Assert.True(lines[0].GetProperty("valid").GetBoolean());
        Assert.Equal("invalid_token", lines[1].GetProperty("error").GetString());
        Assert.Contains("audience", lines[1].GetProperty("error_description").GetString(), StringComparison.Ordinal);
        Assert.Contains(lines[2].GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "exp" && !c.GetProperty("ok").GetBoolean());
    }

    /// <summary>A JWS over exactly these payload bytes (RFC 7515 signs any octets, not only JSON).</summary>
    private string SignedBytes(byte[] payload)
    {
        var header = TestTokens.B64("{\"alg\":\"RS256\"}"u8.ToArray());
        var body = TestTokens.B64(payload);
        var signature = _brand.SignData(System.Text.Encoding.ASCII.GetBytes(header + "." + body), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return header + "." + body + "." + TestTokens.B64(signature);
    }

    [Theory]
    [InlineData("It\u2019s a dangerous business, Frodo, going out your door.", "utf-8")]
    [InlineData("[1,2,3]", "utf-8")]
    [InlineData("", "utf-8")]
    public async Task No_claims_verifies_the_signature_and_prints_any_text_payload(string payload, string encoding)
    {
        var (exit, output, _) = await RunAsync(null, "token", "check", "--keys", KeyFile(), "--no-claims", SignedBytes(System.Text.Encoding.UTF8.GetBytes(payload)));

        Assert.Equal(0, exit);
        var line = JsonDocument.Parse(output.Trim()).RootElement;
        Assert.True(line.GetProperty("valid").GetBoolean());
        Assert.Equal((payload, encoding), (line.GetProperty("payload").GetString(), line.GetProperty("payloadEncoding").GetString()));
        Assert.Equal(JsonValueKind.Null, line.GetProperty("claims").ValueKind);
    }

    [Fact]
    public async Task No_claims_prints_a_binary_payload_as_base64url_and_still_refuses_a_bad_signature()
    {
        byte[] bytes = [0xff, 0x00, 0xfe, 0x80];
        var token = SignedBytes(bytes);
        var (exit, output, _) = await RunAsync(null, "token", "check", "--keys", KeyFile(), "--no-claims", token);
        Assert.Equal(0, exit);
        var line = JsonDocument.Parse(output.Trim()).RootElement;
        Assert.Equal((TestTokens.B64(bytes), "base64url"), (line.GetProperty("payload").GetString(), line.GetProperty("payloadEncoding").GetString()));

        var forged = token[..(token.LastIndexOf('.') + 1)] + TestTokens.B64(new byte[256]);
        (exit, output, _) = await RunAsync(null, "token", "check", "--keys", KeyFile(), "--no-claims", forged);
        Assert.Equal(1, exit);
        line = JsonDocument.Parse(output.Trim()).RootElement;
        Assert.Equal("invalid_token", line.GetProperty("error").GetString());
        Assert.False(line.TryGetProperty("payload", out _));
    }

    /// <summary>
    /// Project Wycheproof's valid JWS vectors (tests/Parley.Identity.Tests/vectors/wycheproof), one
    /// run of the binary per key with the group's tokens on stdin: each verifies and prints its
    /// payload, JSON or not. The six Parley refuses on purpose are listed in WycheproofJwsTests.
    /// </summary>
    [Fact]
    public async Task No_claims_verifies_wycheproofs_valid_vectors_and_prints_their_payloads()
    {
        int[] stricter = [346, 347, 350, 351, 372, 373];
        var corpus = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(
            Parley.Testing.RepositoryPaths.Root, "tests", "Parley.Identity.Tests", "vectors", "wycheproof", "json_web_signature_test.json"))).RootElement;
        var verified = 0;
        foreach (var group in corpus.GetProperty("testGroups").EnumerateArray())
        {
            var valid = group.GetProperty("tests").EnumerateArray()
                .Where(t => t.GetProperty("result").GetString() == "valid" && !stricter.Contains(t.GetProperty("tcId").GetInt32()))
                .Select(t => t.GetProperty("jws").GetString()!)
                .ToList();
            if (valid.Count == 0)
            {
                continue;
            }

            var key = group.TryGetProperty("public", out var pub) ? pub : group.GetProperty("private");
            var keys = Path.Combine(_directory, "wycheproof.jwks");
            await File.WriteAllTextAsync(keys, "{\"keys\":[" + key.GetRawText() + "]}");
            var (exit, output, error) = await RunAsync(string.Join('\n', valid) + "\n", "token", "check", "--keys", keys, "--no-claims", "-");

            Assert.True(exit == 0, $"{group.GetProperty("comment").GetString()}: exit {exit}\n{output}{error}");
            var lines = output.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(valid.Count, lines.Count);
            foreach (var (jws, line) in valid.Zip(lines))
            {
                Assert.True(line.GetProperty("valid").GetBoolean());
                Assert.True(Parley.Identity.Jose.Base64Url.TryDecode(jws.Split('.')[1], out var payload));
                var printed = line.GetProperty("payloadEncoding").GetString() == "utf-8"
                    ? System.Text.Encoding.UTF8.GetBytes(line.GetProperty("payload").GetString()!)
                    : Convert.FromBase64String(Base64Padded(line.GetProperty("payload").GetString()!));
                Assert.Equal(payload, printed);
                verified++;
            }
        }

        Assert.Equal(40, verified);
    }

    private static string Base64Padded(string base64Url)
    {
        var standard = base64Url.Replace('-', '+').Replace('_', '/');
        return standard + new string('=', (4 - standard.Length % 4) % 4);
    }

    /// <summary>
    /// <c>dotnet run --project src/Parley.Server -- token check --keys brand.pub …</c> from the
    /// repository root: dotnet run starts the program in the project's folder, and the shell's
    /// directory (<c>PWD</c>) says where <c>brand.pub</c> is.
    /// </summary>
    [Fact]
    public async Task A_relative_key_file_is_found_in_the_shells_directory_when_the_program_runs_elsewhere()
    {
        KeyFile();
        var project = Directory.CreateTempSubdirectory("parley-cli-project-").FullName;
        try
        {
            var (exit, output, _) = await RunInAsync(project, _directory, null,
                "token", "check", "--keys", "brand.pub", "--issuer", "https://idp.brand.example", "--audience", "parley", Token("parley"));
            Assert.Equal(0, exit);
            Assert.True(JsonDocument.Parse(output.Trim()).RootElement.GetProperty("valid").GetBoolean());

            (exit, _, var error) = await RunInAsync(project, _directory, null,
                "token", "check", "--keys", "missing.pub", "--issuer", "https://idp.brand.example", "--audience", "parley", Token("parley"));
            Assert.Equal(2, exit);
            Assert.Contains($"in {project} or in {_directory}", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(project, recursive: true);
        }
    }

    [Fact]
    public async Task A_frozen_clock_makes_an_expired_token_valid_again()
    {
        var token = Token("parley", expOffset: -3600, iatOffset: -4000);
        var past = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3700).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (exit, _, _) = await RunAsync(null, "token", "check", "--keys", KeyFile(), "--issuer", "https://idp.brand.example", "--audience", "parley", "--now", past, token);
        Assert.Equal(0, exit);
    }

    [Theory]
    [InlineData("token", "check", "abc")]
    [InlineData("token", "check", "--keys", "/nonexistent/keys.pem", "--issuer", "i", "--audience", "a", "abc")]
    [InlineData("token", "check", "--secret", "s", "abc")]
    [InlineData("token", "check", "--unknown-option", "abc")]
    public async Task Usage_errors_exit_2(params string[] args)
    {
        var (exit, _, error) = await RunAsync(null, args);
        Assert.Equal(2, exit);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }
}
