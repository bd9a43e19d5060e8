using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Parley.Conversations;

namespace Parley.Server.Tests;

/// <summary><c>Parley:Retention:ClosedConversationDays</c>: closed conversations go after the period; open and recent ones stay.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task A_conversation_closed_longer_than_the_retention_period_is_deleted_and_an_open_one_is_kept()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(
            builder => builder.Services.AddSingleton<TimeProvider>(clock), "--Parley:Retention:ClosedConversationDays=30", "--Parley:VisitorSessionLifetime=90.00:00:00");
        var token = await server.NewVisitorAsync();
        await using var visitor = await server.ConsumerAsync(token);
        await visitor.SendAsync(new { type = "conversation.start" });
        var closed = (await visitor.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await visitor.SendAsync(new { type = "message.send", conversationId = closed, clientMessageId = "c-1", text = "old news" });
        await visitor.ExpectAsync("message.ack");
        await visitor.SendAsync(new { type = "conversation.close", conversationId = closed });
        await visitor.ExpectAsync("conversation", f => f.GetProperty("conversation").GetProperty("status").GetString() == "closed");
        await visitor.SendAsync(new { type = "conversation.start", requestId = "again" });
        var open = (await visitor.ExpectAsync("conversation", f => f.TryGetProperty("requestId", out _))).GetProperty("conversation").GetProperty("id").GetGuid();
        var retention = server.Services.GetRequiredService<Retention>();

        clock.Advance(TimeSpan.FromDays(29));
        Assert.Equal(0, await retention.SweepAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await retention.SweepAsync(CancellationToken.None));

        Assert.Equal(HttpStatusCode.NotFound, (await server.SendAsync(HttpMethod.Get, $"/api/v1/consumer/conversations/{closed}", token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Get, $"/api/v1/consumer/conversations/{open}", token)).StatusCode);
    }

    [Fact]
    public async Task The_audit_log_has_a_retention_of_its_own()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = await UseCaseHost.StartAsync(clock, "--Parley:Retention:AuditDays=90", "--Parley:Retention:ClosedConversationDays=30");
        var audit = host.Get<Audit.AuditLog>();
        var tenant = Demo.DemoOptions.TenantId;
        await audit.RecordAsync(tenant, Audit.AuditKinds.Login, Audit.AuditEvent.Refused, null, reason: "old");
        clock.Advance(TimeSpan.FromDays(60));
        await audit.RecordAsync(tenant, Audit.AuditKinds.Login, Audit.AuditEvent.Refused, null, reason: "recent");
        var retention = host.Get<Retention>();

        clock.Advance(TimeSpan.FromDays(20)); // the old one is 80 days old: kept
        Assert.Equal(0, await retention.SweepAuditAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromDays(11));
        Assert.Equal(1, await retention.SweepAuditAsync(CancellationToken.None));

        var left = await host.Store.ListAuditEventsAsync(tenant, Audit.AuditKinds.Login, null, 50, CancellationToken.None);
        Assert.Equal(["recent"], left.Select(e => e.Reason!));
    }
}
