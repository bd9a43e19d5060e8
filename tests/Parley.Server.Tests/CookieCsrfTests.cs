using System.Net;
using System.Net.Http.Json;
using Parley.Demo;

namespace Parley.Server.Tests;

/// <summary>The agent web app's cookie changes nothing unless the request comes from Parley's own origin.</summary>
public sealed class CookieCsrfTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task A_cookie_authenticated_change_needs_parleys_own_origin_and_reads_do_not()
    {
        using var login = await Server.Http.PostAsJsonAsync("/api/v1/agent/login", new { email = DemoOptions.AdminEmail, password = "parley-demo" });
        var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("parley_agent=", StringComparison.Ordinal)).Split(';')[0];
        using var browser = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = Server.Address };
        var path = $"/api/v1/admin/deployments/{DemoOptions.DeploymentId}/messenger";

        async Task<HttpStatusCode> SendAsync(HttpMethod method, string? origin)
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get ? null : JsonContent.Create(new { windowMode = "embedded" }) };
            request.Headers.Add("Cookie", cookie);
            if (origin is not null)
            {
                request.Headers.Add("Origin", origin);
            }

            return (await browser.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Get, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Put, "https://evil.example"));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Put, null));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Put, Server.Address.GetLeftPart(UriPartial.Authority)));
    }
}
