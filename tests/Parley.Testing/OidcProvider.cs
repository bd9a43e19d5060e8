using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Parley.Testing;

/// <summary>
/// The npm <c>oidc-provider</c> package as a real, independent OpenID Provider on loopback
/// (tests/interop/oidc-provider.mjs), with one confidential client <c>parley</c>.
/// </summary>
public sealed class OidcProvider : IAsyncDisposable
{
    private readonly Process _process;

    private OidcProvider(Process process, Uri issuer)
    {
        _process = process;
        Issuer = issuer;
    }

    public Uri Issuer { get; }

    public Uri DiscoveryUrl => new(Issuer, "/.well-known/openid-configuration");

    public static async Task<OidcProvider> StartAsync(string clientSecret, params string[] redirectUris)
    {
        if (!Directory.Exists(Path.Combine(RepositoryPaths.Interop, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException("tests/interop/node_modules is missing oidc-provider: run ./build.sh test (it runs npm ci there).");
        }

        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = RepositoryPaths.Interop,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "oidc-provider.mjs", port.ToString(System.Globalization.CultureInfo.InvariantCulture), clientSecret }.Concat(redirectUris))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var ready = await ReadLineAsync(process, "ready ");
        return new OidcProvider(process, new Uri(ready["ready ".Length..]));
    }

    /// <summary>Publishes a new signing key first in the JWKS (the old one stays listed); returns its kid.</summary>
    public async Task<string> RotateKeysAsync()
    {
        await _process.StandardInput.WriteLineAsync("rotate");
        await _process.StandardInput.FlushAsync();
        return (await ReadLineAsync(_process, "rotated "))["rotated ".Length..];
    }

    /// <summary>Registers Parley's back-channel logout URI for the client (the provider is rebuilt with it).</summary>
    public async Task SetBackChannelLogoutAsync(Uri uri)
    {
        await _process.StandardInput.WriteLineAsync("backchannel " + uri);
        await _process.StandardInput.FlushAsync();
        await ReadLineAsync(_process, "backchannel set");
    }

    /// <summary>
    /// The provider logs <paramref name="subject"/> out and sends Parley a logout token over the back
    /// channel; returns its line: <c>logged-out …</c> when Parley answered 200, else <c>logout-failed …</c>.
    /// </summary>
    public async Task<string> LogOutAsync(string subject)
    {
        await _process.StandardInput.WriteLineAsync("logout " + subject);
        await _process.StandardInput.FlushAsync();
        return await ReadLineAsync(_process, "log");
    }

    private static async Task<string> ReadLineAsync(Process process, string prefix)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }

        throw new InvalidOperationException($"oidc-provider exited (code {(process.HasExited ? process.ExitCode : -1)}) before printing \"{prefix}\".");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
