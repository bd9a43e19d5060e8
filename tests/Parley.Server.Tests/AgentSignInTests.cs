using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Parley.Agents;
using Parley.Security;

namespace Parley.Server.Tests;

/// <summary>
/// Agents' sign-in under attack: an email that keeps failing is locked with back-off whether an
/// account has it or not (same answers, same work), one address is limited whatever the emails,
/// passwords are checked on threads of their own, and the tenant's audit log shows the attempts.
/// </summary>
public sealed class AgentSignInTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(
        "--Parley:Limits:SignInFailuresBeforeLock=3",
        "--Parley:Limits:SignInLockout=00:02:00");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<HttpResponseMessage> SignInAsync(string email, string password) =>
        _server.Http.PostAsJsonAsync("/api/v1/agent/login", new { email, password });

    private static async Task<string?> CodeOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();

    [Fact]
    public async Task Failures_in_a_row_lock_the_email_whether_or_not_an_account_has_it_with_the_same_answers()
    {
        var (agentId, _) = await _server.NewAgentAsync(Demo.DemoOptions.TenantId);
        var known = (await _server.Store.GetAgentAsync(agentId, CancellationToken.None))!.Email;
        var unknown = $"nobody-{Guid.NewGuid():N}@acme.example";
        foreach (var email in new[] { known, unknown })
        {
            var answers = new List<(HttpStatusCode, string?)>();
            for (var i = 0; i < 4; i++)
            {
                var response = await SignInAsync(email, "wrong-password-" + i);
                answers.Add((response.StatusCode, await CodeOf(response)));
            }

            Assert.Equal(
                [(HttpStatusCode.Unauthorized, "unauthorized"), (HttpStatusCode.Unauthorized, "unauthorized"), (HttpStatusCode.Unauthorized, "unauthorized"),
                 (HttpStatusCode.TooManyRequests, "rate_limited")],
                answers);
            // Locked: even the right password waits out the lock, which the answer says how long.
            var locked = await SignInAsync(email, "parley-demo");
            Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
            Assert.InRange(int.Parse(locked.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 60, 120);
        }

        var audited = await _server.Store.ListAuditEventsAsync(Demo.DemoOptions.TenantId, Audit.AuditKinds.AgentSignIn, null, 50, CancellationToken.None);
        var mine = audited.Where(e => e.ActorId == agentId && e.Outcome == Audit.AuditEvent.Refused).ToList();
        Assert.Equal(3, mine.Count); // the lock refuses before any check: nothing more to record
        Assert.All(mine, e => Assert.Equal("password", e.Reason));
        Assert.Contains("locked for 2 min", mine[0].Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(audited, e => e.Detail?.Contains("wrong-password", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_successful_sign_in_starts_the_count_again_and_is_audited()
    {
        var (agentId, _) = await _server.NewAgentAsync(Demo.DemoOptions.TenantId);
        var email = (await _server.Store.GetAgentAsync(agentId, CancellationToken.None))!.Email;
        for (var round = 0; round < 2; round++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(email, "wrong")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInAsync(email, "wrong")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SignInAsync(email, "parley-demo")).StatusCode);
        }

        var audited = await _server.Store.ListAuditEventsAsync(Demo.DemoOptions.TenantId, Audit.AuditKinds.AgentSignIn, null, 50, CancellationToken.None);
        Assert.Equal(3, audited.Count(e => e.ActorId == agentId && e.Outcome == Audit.AuditEvent.Succeeded)); // NewAgentAsync signed in once too
        Assert.Equal(4, audited.Count(e => e.ActorId == agentId && e.Outcome == Audit.AuditEvent.Refused));
    }

    [Fact]
    public async Task Sign_ins_from_one_address_are_limited_whatever_the_emails()
    {
        await using var server = await TestServer.StartAsync("--Parley:Limits:SignInsPerIpPerMinute=3");
        for (var i = 0; i < 3; i++)
        {
            var refused = await server.Http.PostAsJsonAsync("/api/v1/agent/login", new { email = $"guess-{i}@acme.example", password = "guess" });
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var limited = await server.Http.PostAsJsonAsync("/api/v1/agent/login", new { email = Demo.DemoOptions.AgentEmail, password = "parley-demo" });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("rate_limited", await CodeOf(limited));
    }

    private sealed class RecordingHasher : IPasswordHasher<Agent>
    {
        public List<(string? Thread, Guid AgentId)> Checks { get; } = [];

        public string HashPassword(Agent user, string password) => "hash:" + password;

        public PasswordVerificationResult VerifyHashedPassword(Agent user, string hashedPassword, string providedPassword)
        {
            lock (Checks)
            {
                Checks.Add((Thread.CurrentThread.Name, user.Id));
            }

            return hashedPassword == "hash:" + providedPassword ? PasswordVerificationResult.Success : PasswordVerificationResult.Failed;
        }
    }

    [Fact]
    public async Task Passwords_are_checked_on_threads_of_their_own_and_an_unknown_account_costs_the_same_check()
    {
        var hasher = new RecordingHasher();
        using var checks = new PasswordChecks(hasher, Options.Create(new LimitOptions { PasswordCheckThreads = 1 }));
        var agent = new Agent(Guid.NewGuid(), Guid.NewGuid(), "ana@acme.example", "Ana", "hash:right", AgentRole.Agent, 3, DateTimeOffset.UtcNow);

        Assert.True(await checks.VerifyAsync(agent, "right"));
        Assert.False(await checks.VerifyAsync(agent, "wrong"));
        Assert.False(await checks.VerifyAsync(null, "right"));

        Assert.Equal(3, hasher.Checks.Count);
        Assert.All(hasher.Checks, c => Assert.Equal("parley-password-0", c.Thread));
        Assert.Equal(Guid.Empty, hasher.Checks[2].AgentId); // the unknown account's check, against a random password's hash
    }
}
