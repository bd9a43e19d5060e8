using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Parley.Security;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// Server-side requests an admin can aim (key URLs, discovery, token endpoints): private, loopback
/// and link-local addresses are refused after DNS, each redirect is checked again, and network
/// errors tell a brand what to fix without mapping the network. All traffic here stays on loopback:
/// refused addresses are refused before any packet is sent.
/// </summary>
public sealed class OutboundPolicyTests
{
    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "Parley";
        public string ContentRootPath { get; set; } = "";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }

    private static OutboundPolicy Policy(string environment = "Production", bool? loopback = null, params string[] allowed) =>
        new(Options.Create(new OutboundOptions { AllowedNetworks = [.. allowed], AllowLoopback = loopback }), new Environment(environment));

    [Theory]
    [InlineData("169.254.169.254", false)] // cloud metadata
    [InlineData("10.0.0.1", false)]
    [InlineData("172.16.5.4", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("::ffff:10.0.0.1", false)] // a private IPv4 address dressed as IPv6
    [InlineData("::ffff:169.254.169.254", false)]
    [InlineData("64:ff9b::a9fe:a9fe", false)] // NAT64 to 169.254.169.254
    [InlineData("2002:a9fe:a9fe::1", false)] // 6to4 of 169.254.169.254
    [InlineData("2001:0:4136:e378::1", false)] // Teredo
    [InlineData("::a9fe:a9fe", false)] // IPv4-compatible
    [InlineData("93.184.215.14", true)]
    [InlineData("2606:4700::1111", true)]
    public void Only_public_addresses_are_called_by_default(string address, bool allowed) =>
        Assert.Equal(allowed, Policy().Allows(IPAddress.Parse(address)));

    [Fact]
    public void An_operator_allows_a_network_and_loopback_is_allowed_in_development_only()
    {
        var inside = Policy("Production", null, "10.20.0.0/16");
        Assert.True(inside.Allows(IPAddress.Parse("10.20.3.4")));
        Assert.False(inside.Allows(IPAddress.Parse("10.21.3.4")));
        Assert.True(Policy("Development").Allows(IPAddress.Loopback));
        Assert.False(Policy("Development").Allows(IPAddress.Parse("169.254.169.254")));
        Assert.False(Policy("Development", loopback: false).Allows(IPAddress.Loopback));
    }

    private static async Task<(TestServer Server, string Admin)> ServerAsync(params string[] settings)
    {
        var server = await TestServer.StartAsync(settings);
        return (server, await server.AgentTokenAsync(Demo.DemoOptions.AdminEmail));
    }

    /// <summary>Creates settings whose keys are at <paramref name="keysUrl"/> and runs the token tester: its failed check's description.</summary>
    private static async Task<(string Check, string Description)> TestKeysAtAsync(TestServer server, string admin, string keysUrl)
    {
        var created = await server.SendAsync(HttpMethod.Post, "/api/v1/admin/authentication-settings", admin,
            new { name = "Brand", flow = "implicit", issuer = TestTokens.Issuer, clientId = "parley", keysUrl });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var key = RSA.Create(2048);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var token = TestTokens.Rs256(key, new { iss = TestTokens.Issuer, aud = "parley", sub = "u-1", iat = now, exp = now + 600 });
        var tested = await (await server.SendAsync(HttpMethod.Post, $"/api/v1/admin/authentication-settings/{id}/test", admin, new { token }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(tested.GetProperty("valid").GetBoolean());
        return (tested.GetProperty("failedCheck").GetString()!, tested.GetProperty("errorDescription").GetString()!);
    }

    [Fact]
    public async Task A_key_url_on_a_refused_address_is_not_called_and_the_tester_says_why()
    {
        await using var brand = await BrandEndpoint.StartAsync();
        brand.Serve("/jwks", "{\"keys\":[]}");
        var (server, admin) = await ServerAsync("--Parley:Outbound:AllowLoopback=false");
        await using var _ = server;

        var (_, description) = await TestKeysAtAsync(server, admin, $"http://localhost:{brand.BaseUri.Port}/jwks");

        Assert.Contains("private, loopback or link-local", description, StringComparison.Ordinal);
        Assert.False(brand.Hits.ContainsKey("/jwks"));
    }

    [Fact]
    public async Task A_redirect_to_a_refused_address_is_not_followed()
    {
        await using var brand = await BrandEndpoint.StartAsync();
        brand.Routes["/jwks"] = context =>
        {
            context.Response.Redirect($"http://127.0.0.2:{brand.BaseUri.Port}/jwks"); // loopback still, but outside the allowed network
            return Task.CompletedTask;
        };
        var (server, admin) = await ServerAsync("--Parley:Outbound:AllowLoopback=false", "--Parley:Outbound:AllowedNetworks:0=127.0.0.1/32");
        await using var _ = server;

        var (_, description) = await TestKeysAtAsync(server, admin, $"http://127.0.0.1:{brand.BaseUri.Port}/jwks");

        Assert.Equal(1, brand.Hits["/jwks"]);
        Assert.Contains("127.0.0.2 resolves to a private, loopback or link-local address", description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Literal_private_addresses_are_refused_when_the_settings_are_saved()
    {
        var (server, admin) = await ServerAsync();
        await using var _ = server;
        foreach (var url in new[] { "https://169.254.169.254/latest/meta-data/", "https://10.1.2.3/jwks", "https://[fd00::1]/jwks" })
        {
            var refused = await server.SendAsync(HttpMethod.Post, "/api/v1/admin/authentication-settings", admin,
                new { name = "Brand", flow = "implicit", issuer = TestTokens.Issuer, clientId = "parley", keysUrl = url });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("private, loopback or link-local", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_closed_port_and_an_open_port_that_is_not_a_web_server_get_the_same_answer_and_nothing_is_echoed()
    {
        var (server, admin) = await ServerAsync();
        await using var _ = server;
        using var notWeb = new TcpListener(IPAddress.Loopback, 0);
        notWeb.Start();
        var openPort = ((IPEndPoint)notWeb.LocalEndpoint).Port;
        var answering = Task.Run(async () =>
        {
            using var client = await notWeb.AcceptTcpClientAsync();
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("SSH-2.0-OpenSSH_9.2 internal-db-01\r\n"));
        });
        int closedPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var open = await TestKeysAtAsync(server, admin, $"http://127.0.0.1:{openPort}/jwks");
        var closed = await TestKeysAtAsync(server, admin, $"http://127.0.0.1:{closedPort}/jwks");
        await answering;

        Assert.Equal(open.Description.Replace(openPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "PORT", StringComparison.Ordinal),
            closed.Description.Replace(closedPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "PORT", StringComparison.Ordinal));
        Assert.DoesNotContain("SSH", open.Description, StringComparison.Ordinal);
        Assert.Contains("gave no HTTPS answer", open.Description, StringComparison.Ordinal);
    }
}
