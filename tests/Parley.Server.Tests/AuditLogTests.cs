using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Parley.Server.Tests;

/// <summary>
/// The audit log: logins that succeed or are refused (with the failed check), a cleared history,
/// admins' changes — queryable by the tenant's admins only, and holding no token or secret.
/// </summary>
public sealed class AuditLogTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private static readonly RSA Brand = RSA.Create(2048);
    private TestServer Server => fixture.Server;

    private async Task<JsonElement[]> EventsAsync(string admin, string? kind = null) =>
        (await (await Server.SendAsync(HttpMethod.Get, "/api/v1/admin/audit" + (kind is null ? "" : $"?kind={kind}"), admin))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().ToArray();

    [Fact]
    public async Task Events_recorded_at_once_are_all_stored_each_by_the_time_its_recording_completes()
    {
        var (deploymentId, _) = await Server.NewTenantAsync();
        var tenantId = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.TenantId;
        var audit = Server.Services.GetRequiredService<Audit.AuditLog>();

        var stored = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            await audit.RecordAsync(tenantId, Audit.AuditKinds.Login, Audit.AuditEvent.Refused, null, deploymentId, reason: $"check-{i}");
            var events = await Server.Store.ListAuditEventsAsync(tenantId, null, null, 500, CancellationToken.None);
            return events.Any(e => e.Reason == $"check-{i}");
        }));

        Assert.All(stored, Assert.True);
        var all = await Server.Store.ListAuditEventsAsync(tenantId, null, null, 500, CancellationToken.None);
        Assert.Equal(300, all.Select(e => e.Reason).Distinct().Count());
    }

    [Fact]
    public async Task Logins_refusals_cleared_histories_and_admin_changes_are_recorded_without_tokens_or_secrets()
    {
        var (deploymentId, _) = await Server.NewTenantAsync();
        var tenantId = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.TenantId;
        var admin = await Server.AdminTokenAsync(tenantId);
        await TestTokens.AttachSettingsAsync(Server, deploymentId, Brand);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var good = TestTokens.Rs256(Brand, new { iss = TestTokens.Issuer, aud = "parley", sub = "customer-77", exp = now + 600, iat = now });
        var forged = TestTokens.Rs256(RSA.Create(2048), new { iss = TestTokens.Issuer, aud = "parley", sub = "customer-77", exp = now + 600, iat = now });

        var accepted = await (await Server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt = good })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Unauthorized, (await Server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt = forged })).StatusCode);
        await using (var socket = await Server.ConsumerAsync(accepted.GetProperty("visitorToken").GetString()!, deploymentId))
        {
            await socket.SendAsync(new { type = "conversation.start" });
            var conversationId = (await socket.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
            await socket.SendAsync(new { type = "history.clear", conversationId });
            await socket.ExpectAsync("history.cleared");
        }

        var path = $"/api/v1/admin/deployments/{deploymentId}/messenger";
        Assert.Equal(HttpStatusCode.OK, (await Server.SendAsync(HttpMethod.Put, path, admin, new { windowMode = "window" })).StatusCode);
        var created = await (await Server.SendAsync(HttpMethod.Post, "/api/v1/admin/authentication-settings", admin, new
        {
            name = "second", flow = "code", issuer = "https://idp.second.example", clientId = "parley",
            keysDocument = Brand.ExportSubjectPublicKeyInfoPem(), tokenEndpoint = "https://idp.second.example/token", clientSecret = "a-very-secret-client-secret",
        })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(created.TryGetProperty("id", out _), created.ToString());

        var events = await EventsAsync(admin);
        var logins = events.Where(e => e.GetProperty("kind").GetString() == "authentication.login").ToList();
        Assert.Contains(logins, e => e.GetProperty("outcome").GetString() == "success" && e.GetProperty("subject").GetString() == "customer-77");
        Assert.Contains(logins, e => e.GetProperty("outcome").GetString() == "refused" && e.GetProperty("reason").GetString() == "signature"
            && e.GetProperty("actorType").GetString() == "visitor");
        Assert.Contains(events, e => e.GetProperty("kind").GetString() == "history.cleared" && e.GetProperty("actorType").GetString() == "consumer");
        Assert.Contains(events, e => e.GetProperty("kind").GetString() == "messenger.changed" && e.GetProperty("actorType").GetString() == "agent");
        Assert.Contains(events, e => e.GetProperty("kind").GetString() == "settings.created");
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.GetProperty("at").GetDateTimeOffset() >= p.Second.GetProperty("at").GetDateTimeOffset()), "not newest first");

        var everything = string.Join('\n', events.Select(e => e.ToString()));
        Assert.DoesNotContain(good.Split('.')[2], everything, StringComparison.Ordinal);
        Assert.DoesNotContain(forged.Split('.')[2], everything, StringComparison.Ordinal);
        Assert.DoesNotContain("a-very-secret-client-secret", everything, StringComparison.Ordinal);
        Assert.DoesNotContain(accepted.GetProperty("visitorToken").GetString()!, everything, StringComparison.Ordinal);

        Assert.All(await EventsAsync(admin, "history.cleared"), e => Assert.Equal("history.cleared", e.GetProperty("kind").GetString()));
    }

    [Fact]
    public async Task Admins_see_only_their_tenants_events_and_agents_none()
    {
        var (deploymentId, _) = await Server.NewTenantAsync();
        var tenantId = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.TenantId;
        var admin = await Server.AdminTokenAsync(tenantId);
        Assert.Equal(HttpStatusCode.OK, (await Server.SendAsync(HttpMethod.Put, $"/api/v1/admin/deployments/{deploymentId}/messenger", admin, new { title = "Mine" })).StatusCode);

        var (otherDeployment, _) = await Server.NewTenantAsync();
        var otherAdmin = await Server.AdminTokenAsync((await Server.Store.GetDeploymentAsync(otherDeployment, CancellationToken.None))!.TenantId);
        Assert.DoesNotContain(await EventsAsync(otherAdmin), e => e.GetProperty("deploymentId").ValueKind == JsonValueKind.String
            && e.GetProperty("deploymentId").GetGuid() == deploymentId);
        Assert.Contains(await EventsAsync(admin), e => e.GetProperty("kind").GetString() == "messenger.changed");

        var (_, agent) = await Server.NewAgentAsync(tenantId);
        Assert.Equal(HttpStatusCode.Forbidden, (await Server.SendAsync(HttpMethod.Get, "/api/v1/admin/audit", agent)).StatusCode);
    }

    [Fact]
    public async Task A_logins_expiry_is_audited_and_shown_in_the_conversation_once_however_many_sockets_the_device_had_open()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var (deploymentId, _) = await server.NewTenantAsync();
        var tenantId = (await server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.TenantId;
        await TestTokens.AttachSettingsAsync(server, deploymentId, Brand, sessionTtlMinutes: 15, now: clock.GetUtcNow());
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var jwt = TestTokens.Rs256(Brand, new { iss = TestTokens.Issuer, aud = "parley", sub = "customer-expiring", exp = now + 3600, iat = now });
        var token = (await (await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("visitorToken").GetString()!;
        await using var tab1 = await server.ConsumerAsync(token, deploymentId);
        await using var tab2 = await server.ConsumerAsync(token, deploymentId);
        await tab1.SendAsync(new { type = "conversation.start", requestId = "start" });
        var conversationId = (await tab1.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();

        clock.Advance(TimeSpan.FromMinutes(16));
        await tab1.ExpectAsync("auth.expired");
        await tab2.ExpectAsync("auth.expired");

        var admin = await server.AdminTokenAsync(tenantId);
        JsonElement[] expired = [];
        for (var i = 0; i < 50 && expired.Length == 0; i++)
        {
            await Task.Delay(20);
            expired = (await (await server.SendAsync(HttpMethod.Get, "/api/v1/admin/audit?kind=authentication.expired", admin))
                .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().ToArray();
        }

        var only = Assert.Single(expired);
        Assert.Equal(("customer-expiring", "consumer"), (only.GetProperty("subject").GetString(), only.GetProperty("actorType").GetString()));

        // Agents see it where they work: one system event in the visitor's open conversation.
        var (_, agent) = await server.NewAgentAsync(tenantId);
        async Task<JsonElement[]> ExpiryEventsAsync() =>
            (await (await server.SendAsync(HttpMethod.Get, $"/api/v1/agent/conversations/{conversationId}/messages", agent))
                .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray()
                .Where(m => m.GetProperty("text").GetString() == "authentication.expired").ToArray();
        for (var i = 0; i < 50 && (await ExpiryEventsAsync()).Length == 0; i++)
        {
            await Task.Delay(20);
        }

        await Task.Delay(200); // a second copy would have arrived by now
        var events = await ExpiryEventsAsync();
        var shown = Assert.Single(events);
        Assert.Equal(("event", "system"), (shown.GetProperty("kind").GetString(), shown.GetProperty("senderRole").GetString()));
    }
}
