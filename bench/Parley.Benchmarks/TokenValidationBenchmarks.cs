using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Parley.Identity.Jose;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;
using TokenValidationSettings = Parley.Identity.Tokens.TokenValidationSettings;

namespace Parley.Benchmarks;

/// <summary>
/// One token validation, three ways, on the same token: Parley's validator (header, key lookup,
/// signature, every claim check, identity mapping), the bare signature check (the physical limit),
/// and Microsoft.IdentityModel 8.23.0's JsonWebTokenHandler with equivalent checks.
/// </summary>
[MemoryDiagnoser]
public class TokenValidationBenchmarks
{
    private const string Issuer = "https://idp.brand.example";
    private const string Audience = "parley-client";

    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly TokenValidator _parley = new(TimeProvider.System);
    private readonly JsonWebTokenHandler _identityModel = new();
    private TokenValidationSettings _settings = null!;
    private TokenValidationSettings _signatureOnly = null!;
    private TokenValidationSettings _tester = null!;
    private IKeySource _keys = null!;
    private string _token = null!;
    private byte[] _signingInput = null!;
    private byte[] _signature = null!;
    private Microsoft.IdentityModel.Tokens.TokenValidationParameters _parameters = null!;
    private RSA _rsaPublic = null!;
    private ECDsa _ecPublic = null!;

    [Params("RS256", "ES256")]
    public string Alg { get; set; } = "RS256";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var header = Encode($"{{\"alg\":\"{Alg}\",\"typ\":\"JWT\",\"kid\":\"k1\"}}");
        var payload = Encode(
            $"{{\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"sub\":\"customer-42\",\"exp\":{now.AddHours(1).ToUnixTimeSeconds()}," +
            $"\"iat\":{now.ToUnixTimeSeconds()},\"given_name\":\"Ada\",\"email\":\"ada@example.com\"," +
            "\"lwicontexts\":\"{\\\"msdyn_cartvalue\\\":\\\"10000\\\",\\\"msdyn_isvip\\\":\\\"true\\\"}\"}");
        _signingInput = Encoding.ASCII.GetBytes(header + "." + payload);
        _signature = Alg == "RS256"
            ? _rsa.SignData(_signingInput, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : _ec.SignData(_signingInput, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        _token = header + "." + payload + "." + Base64Url.Encode(_signature);

        // A verifier holds only the public key; the baseline verifies with such a key too.
        _rsaPublic = RSA.Create(_rsa.ExportParameters(false));
        _ecPublic = ECDsa.Create(_ec.ExportParameters(false));
        var key = Alg == "RS256"
            ? VerificationKey.FromRsa(RSA.Create(_rsa.ExportParameters(false)), "k1")
            : VerificationKey.FromEc(ECDsa.Create(_ec.ExportParameters(false)), "k1");
        _keys = new StaticKeySource(new KeySet([key]));
        // As on the login path (AuthenticationSettingsResolver): only a refusal's check is kept.
        _settings = new TokenValidationSettings { Issuer = Issuer, Audience = Audience, RecordPassedChecks = false };
        _signatureOnly = _settings with { SignatureOnly = true };
        _tester = _settings with { RecordPassedChecks = true };

        SecurityKey peerKey = Alg == "RS256"
            ? new RsaSecurityKey(RSA.Create(_rsa.ExportParameters(false))) { KeyId = "k1" }
            : new ECDsaSecurityKey(ECDsa.Create(_ec.ExportParameters(false))) { KeyId = "k1" };
        _parameters = new Microsoft.IdentityModel.Tokens.TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKey = peerKey,
            ValidAlgorithms = [Alg],
            ClockSkew = TimeSpan.FromSeconds(60),
        };

        if (!await Parley() || !await ParleyRecordingChecks() || !await IdentityModel() || !RawVerify())
        {
            throw new InvalidOperationException("The benchmark token does not validate.");
        }
    }

    private static string Encode(string json) => Base64Url.Encode(Encoding.UTF8.GetBytes(json));

    [Benchmark(Baseline = true, Description = "raw VerifyData (public key)")]
    public bool RawVerify() => Alg == "RS256"
        ? _rsaPublic.VerifyData(_signingInput, _signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
        : _ecPublic.VerifyData(_signingInput, _signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    [Benchmark(Description = "raw VerifyData (signer's key object)")]
    public bool RawVerifyWithPrivateKeyObject() => Alg == "RS256"
        ? _rsa.VerifyData(_signingInput, _signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
        : _ec.VerifyData(_signingInput, _signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    [Benchmark(Description = "Parley TokenValidator")]
    public async Task<bool> Parley() => (await _parley.ValidateAsync(_token, _settings, _keys, CancellationToken.None)).IsValid;

    [Benchmark(Description = "Parley, signature only")]
    public async Task<bool> ParleySignatureOnly() =>
        (await _parley.ValidateAsync(_token, _signatureOnly, _keys, CancellationToken.None)).IsValid;

    [Benchmark(Description = "Parley, every check recorded (token tester)")]
    public async Task<bool> ParleyRecordingChecks() =>
        (await _parley.ValidateAsync(_token, _tester, _keys, CancellationToken.None)).IsValid;

    [Benchmark(Description = "IdentityModel 8.23.0 JsonWebTokenHandler")]
    public async Task<bool> IdentityModel() => (await _identityModel.ValidateTokenAsync(_token, _parameters)).IsValid;
}
