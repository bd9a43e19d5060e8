using Parley.Agents;
using Parley.Audit;
using Parley.Authentication;
using Parley.Bots;
using Parley.Consumers;
using Parley.Conversations;
using Parley.Tenants;

namespace Parley.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="SqlParleyStore"/> must have. Each provider's test class derives
/// from this and supplies a fresh, migrated, empty store per test.
/// </summary>
public abstract partial class StorageSuite : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 9, 30, 0, 123, TimeSpan.Zero);

    protected SqlParleyStore Store { get; private set; } = null!;

    protected abstract Task<SqlParleyStore> CreateStoreAsync();

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.MigrateAsync(CancellationToken.None);
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static CancellationToken Ct => CancellationToken.None;

    private async Task<(Tenant Tenant, Deployment Deployment)> NewTenantAsync(string name = "Acme")
    {
        var tenant = new Tenant(Guid.NewGuid(), name, T0);
        await Store.CreateTenantAsync(tenant, Ct);
        var deployment = new Deployment(Guid.NewGuid(), tenant.Id, "web", ["https://www.acme.example"], T0);
        await Store.CreateDeploymentAsync(deployment, Ct);
        return (tenant, deployment);
    }

    private async Task<Conversation> NewConversationAsync(Deployment deployment, Consumer? consumer = null)
    {
        consumer ??= Consumer.Anonymous(deployment.TenantId, T0);
        if (await Store.GetConsumerAsync(consumer.Id, Ct) is null)
        {
            await Store.CreateConsumerAsync(consumer, Ct);
        }

        var conversation = new Conversation(
            Guid.NewGuid(), deployment.TenantId, deployment.Id, consumer.Id, ConversationStatus.Open, "default",
            null, 0, EngagementAttributes.Empty, T0, T0, null);
        Assert.True(await Store.CreateConversationAsync(conversation, Ct));
        return conversation;
    }

    private async Task<Agent> NewAgentAsync(Guid tenantId, string email)
    {
        var agent = new Agent(Guid.NewGuid(), tenantId, email, "Ana", "hash", AgentRole.Agent, 3, T0);
        await Store.CreateAgentAsync(agent, Ct);
        return agent;
    }

    private static NewMessage Text(Guid conversationId, Guid senderId, string? clientId, string text = "hello") =>
        new(conversationId, MessageKind.Text, ParticipantRole.Consumer, senderId, clientId, text, T0);

    [Fact]
    public async Task Migrating_twice_keeps_the_newest_schema_version()
    {
        var version = await Store.GetSchemaVersionAsync(Ct);
        await Store.MigrateAsync(Ct);
        Assert.True(version >= 1);
        Assert.Equal(version, await Store.GetSchemaVersionAsync(Ct));
        Assert.True(await Store.PingAsync(Ct));
    }

    [Fact]
    public async Task Tenants_and_deployments_round_trip()
    {
        var (tenant, deployment) = await NewTenantAsync();
        Assert.Equal(tenant, await Store.GetTenantAsync(tenant.Id, Ct));
        var stored = await Store.GetDeploymentAsync(deployment.Id, Ct);
        Assert.NotNull(stored);
        Assert.Equal(deployment.AllowedOrigins, stored.AllowedOrigins);
        Assert.True(stored.AllowsOrigin("https://www.acme.example"));
        Assert.False(stored.AllowsOrigin("https://evil.example"));
        Assert.Null(await Store.GetTenantAsync(Guid.NewGuid(), Ct));
        Assert.Null(await Store.GetDeploymentAsync(Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task Authenticated_consumers_are_one_per_tenant_issuer_and_subject()
    {
        var (acme, _) = await NewTenantAsync("Acme");
        var (globex, _) = await NewTenantAsync("Globex");

        var first = await Store.GetOrCreateAuthenticatedConsumerAsync(acme.Id, "https://idp.acme", "u1", T0, Ct);
        var again = await Store.GetOrCreateAuthenticatedConsumerAsync(acme.Id, "https://idp.acme", "u1", T0, Ct);
        var otherIssuer = await Store.GetOrCreateAuthenticatedConsumerAsync(acme.Id, "https://other.idp", "u1", T0, Ct);
        var otherTenant = await Store.GetOrCreateAuthenticatedConsumerAsync(globex.Id, "https://idp.acme", "u1", T0, Ct);

        Assert.Equal(first.Id, again.Id);
        Assert.True(first.IsAuthenticated);
        Assert.NotEqual(first.Id, otherIssuer.Id);
        Assert.NotEqual(first.Id, otherTenant.Id);
    }

    [Fact]
    public async Task Concurrent_first_logins_create_one_consumer()
    {
        var (tenant, _) = await NewTenantAsync();
        var consumers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp", "same", T0, Ct)));
        Assert.Single(consumers.Select(c => c.Id).Distinct());
    }

    [Fact]
    public async Task Concurrent_first_sign_ins_make_one_consumer_with_every_devices_session_and_the_latest_identity()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var signedIn = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Store.SignInAsync(tenant.Id, "https://idp", "same", T0, consumer => (
                new VerifiedIdentity(consumer.Id, "https://idp", "same", new Dictionary<string, string> { ["email"] = "a@b.example" }, new Dictionary<string, string>(), null, T0, T0.AddHours(1)),
                new ConsumerSession($"hash-{i}", consumer.Id, tenant.Id, deployment.Id, T0, T0.AddHours(1))), Ct)));

        var consumerId = Assert.Single(signedIn.Select(c => c.Id).Distinct());
        Assert.True(signedIn[0].IsAuthenticated);
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(consumerId, (await Store.GetConsumerSessionAsync($"hash-{i}", Ct))?.ConsumerId);
        }

        Assert.Equal("a@b.example", (await Store.GetVerifiedIdentityAsync(consumerId, Ct))?.VerifiedClaims["email"]);
    }

    [Fact]
    public async Task A_sign_in_that_fails_part_way_stores_nothing()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var existing = Consumer.Anonymous(tenant.Id, T0);
        await Store.CreateConsumerAsync(existing, Ct);
        await Store.CreateConsumerSessionAsync(new ConsumerSession("taken", existing.Id, tenant.Id, deployment.Id, T0, T0.AddHours(1)), Ct);

        Guid attempted = default;
        await Assert.ThrowsAsync<DuplicateKeyException>(() => Store.SignInAsync(tenant.Id, "https://idp", "newcomer", T0, consumer =>
        {
            attempted = consumer.Id;
            return (new VerifiedIdentity(consumer.Id, "https://idp", "newcomer", new Dictionary<string, string>(), new Dictionary<string, string>(), null, T0, T0.AddHours(1)),
                new ConsumerSession("taken", consumer.Id, tenant.Id, deployment.Id, T0, T0.AddHours(1)));
        }, Ct));

        Assert.NotEqual(default, attempted);
        Assert.Null(await Store.GetConsumerAsync(attempted, Ct));
        Assert.Null(await Store.GetVerifiedIdentityAsync(attempted, Ct));
        Assert.Equal(existing.Id, (await Store.GetConsumerSessionAsync("taken", Ct))?.ConsumerId);
    }

    [Fact]
    public async Task Consumer_sessions_link_and_unlink_a_device()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var consumer = Consumer.Anonymous(tenant.Id, T0);
        await Store.CreateConsumerAsync(consumer, Ct);
        var session = new ConsumerSession("hash-1", consumer.Id, tenant.Id, deployment.Id, T0, T0.AddDays(30));
        await Store.CreateConsumerSessionAsync(session, Ct);

        Assert.Equal(session, await Store.GetConsumerSessionAsync("hash-1", Ct));
        Assert.Equal(consumer, await Store.GetConsumerAsync(consumer.Id, Ct));
        Assert.True(await Store.DeleteConsumerSessionAsync("hash-1", Ct));
        Assert.False(await Store.DeleteConsumerSessionAsync("hash-1", Ct));
        Assert.Null(await Store.GetConsumerSessionAsync("hash-1", Ct));
    }

    [Fact]
    public async Task Agent_emails_are_unique_and_found_case_insensitively()
    {
        var (tenant, _) = await NewTenantAsync();
        var agent = await NewAgentAsync(tenant.Id, "Ana@Acme.example");

        Assert.Equal(agent, await Store.FindAgentByEmailAsync("ana@acme.EXAMPLE", Ct));
        Assert.Equal(agent, await Store.GetAgentAsync(agent.Id, Ct));
        await Assert.ThrowsAsync<DuplicateKeyException>(() => NewAgentAsync(tenant.Id, "ANA@acme.example"));
        Assert.Null(await Store.FindAgentByEmailAsync("nobody@acme.example", Ct));
    }

    [Fact]
    public async Task Agent_sessions_round_trip_and_sign_out()
    {
        var (tenant, _) = await NewTenantAsync();
        var agent = await NewAgentAsync(tenant.Id, "bo@acme.example");
        var session = new AgentSession("agent-hash", agent.Id, tenant.Id, T0, T0.AddHours(12));
        await Store.CreateAgentSessionAsync(session, Ct);
        Assert.Equal(session, await Store.GetAgentSessionAsync("agent-hash", Ct));
        Assert.True(await Store.DeleteAgentSessionAsync("agent-hash", Ct));
        Assert.Null(await Store.GetAgentSessionAsync("agent-hash", Ct));
    }

    [Fact]
    public async Task Conversations_are_listed_per_consumer_and_per_tenant_only()
    {
        var (acme, acmeWeb) = await NewTenantAsync("Acme");
        var (globex, globexWeb) = await NewTenantAsync("Globex");
        var mine = await NewConversationAsync(acmeWeb);
        var neighbours = await NewConversationAsync(acmeWeb);
        var foreign = await NewConversationAsync(globexWeb);

        var byConsumer = await Store.ListConversationsByConsumerAsync(mine.ConsumerId, Ct);
        Assert.Equal([mine.Id], byConsumer.Select(c => c.Id));

        var acmeOpen = await Store.ListConversationsByTenantAsync(acme.Id, ConversationStatus.Open, 100, Ct);
        Assert.Equal(new[] { mine.Id, neighbours.Id }.Order(), acmeOpen.Select(c => c.Id).Order());
        Assert.DoesNotContain(foreign.Id, acmeOpen.Select(c => c.Id));
        Assert.Equal([foreign.Id], (await Store.ListConversationsByTenantAsync(globex.Id, null, 100, Ct)).Select(c => c.Id));
        Assert.Empty(await Store.ListConversationsByTenantAsync(acme.Id, ConversationStatus.Closed, 100, Ct));
    }

    [Fact]
    public async Task A_conversation_round_trips_with_its_engagement_attributes()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        var attributes = new EngagementAttributes(new Dictionary<string, string> { ["cart"] = "1200", ["page"] = "/checkout" });
        var later = T0.AddMinutes(1);
        await Store.SetEngagementAttributesAsync(conversation.Id, attributes, later, Ct);

        var stored = await Store.GetConversationAsync(conversation.Id, Ct);
        Assert.NotNull(stored);
        Assert.Equal("1200", stored.Attributes["cart"]);
        Assert.Equal(later, stored.UpdatedAt);
        Assert.Equal(T0, stored.CreatedAt);
        Assert.Equal(ConversationStatus.Open, stored.Status);
        Assert.Equal("default", stored.Queue);
        Assert.Null(await Store.GetConversationAsync(Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task Of_concurrent_assignments_exactly_one_wins()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        var agents = new List<Agent>();
        for (var i = 0; i < 6; i++)
        {
            agents.Add(await NewAgentAsync(tenant.Id, $"agent{i}@acme.example"));
        }

        var outcomes = await Task.WhenAll(agents.Select(a => Store.TryAssignConversationAsync(conversation.Id, a.Id, T0, Ct)));

        Assert.Equal(1, outcomes.Count(o => o == AssignOutcome.Assigned));
        Assert.Equal(5, outcomes.Count(o => o == AssignOutcome.Taken));
        var winner = agents[Array.IndexOf(outcomes, AssignOutcome.Assigned)];
        Assert.Equal(winner.Id, (await Store.GetConversationAsync(conversation.Id, Ct))!.AssignedAgentId);
    }

    [Fact]
    public async Task Closing_and_reopening_change_status_once()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        var agent = await NewAgentAsync(tenant.Id, "cy@acme.example");
        Assert.Equal(AssignOutcome.Assigned, await Store.TryAssignConversationAsync(conversation.Id, agent.Id, T0, Ct));

        Assert.True(await Store.SetConversationStatusAsync(conversation.Id, ConversationStatus.Closed, T0.AddMinutes(5), Ct));
        Assert.False(await Store.SetConversationStatusAsync(conversation.Id, ConversationStatus.Closed, T0.AddMinutes(6), Ct));
        var closed = await Store.GetConversationAsync(conversation.Id, Ct);
        Assert.Equal(ConversationStatus.Closed, closed!.Status);
        Assert.Equal(T0.AddMinutes(5), closed.ClosedAt);
        Assert.Equal(AssignOutcome.Taken, await Store.TryAssignConversationAsync(conversation.Id, agent.Id, T0, Ct));

        Assert.True(await Store.SetConversationStatusAsync(conversation.Id, ConversationStatus.Open, T0.AddMinutes(7), Ct));
        var reopened = await Store.GetConversationAsync(conversation.Id, Ct);
        Assert.Equal(ConversationStatus.Open, reopened!.Status);
        Assert.Null(reopened.ClosedAt);
        Assert.Null(reopened.AssignedAgentId);
        Assert.Equal(T0.AddMinutes(7), reopened.QueuedAt);
    }

    [Fact]
    public async Task Appended_messages_get_consecutive_sequence_numbers()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        var sender = conversation.ConsumerId;

        var results = await Store.AppendMessagesAsync(
            [Text(conversation.Id, sender, "a"), Text(conversation.Id, sender, "b"), Text(conversation.Id, sender, null)], Ct);
        var more = await Store.AppendMessagesAsync([Text(conversation.Id, sender, "c")], Ct);

        Assert.Equal([1L, 2L, 3L], results.Select(r => r.Message.Seq));
        Assert.All(results, r => Assert.True(r.Created));
        Assert.Equal(4, more[0].Message.Seq);
        Assert.Equal(4, (await Store.GetConversationAsync(conversation.Id, Ct))!.LastSeq);
    }

    [Fact]
    public async Task Resending_a_client_message_id_returns_the_original_and_stores_nothing()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        var sender = conversation.ConsumerId;
        var original = (await Store.AppendMessagesAsync([Text(conversation.Id, sender, "m-1", "first")], Ct))[0];

        var resent = (await Store.AppendMessagesAsync([Text(conversation.Id, sender, "m-1", "changed text")], Ct))[0];
        var inOneBatch = await Store.AppendMessagesAsync(
            [Text(conversation.Id, sender, "m-2"), Text(conversation.Id, sender, "m-2")], Ct);

        Assert.False(resent.Created);
        Assert.Equal(original.Message, resent.Message);
        Assert.True(inOneBatch[0].Created);
        Assert.False(inOneBatch[1].Created);
        Assert.Equal(inOneBatch[0].Message.Seq, inOneBatch[1].Message.Seq);
        var stored = await Store.GetMessagesAsync(conversation.Id, 0, 100, Ct);
        Assert.Equal(["first", "hello"], stored.Select(m => m.Text));
    }

    [Fact]
    public async Task The_same_client_message_id_from_another_sender_is_a_new_message()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        var agentId = Guid.NewGuid();

        var results = await Store.AppendMessagesAsync(
            [Text(conversation.Id, conversation.ConsumerId, "x"), Text(conversation.Id, agentId, "x") with { SenderRole = ParticipantRole.Agent }], Ct);

        Assert.All(results, r => Assert.True(r.Created));
        Assert.Equal([1L, 2L], results.Select(r => r.Message.Seq));
    }

    [Fact]
    public async Task A_batch_across_conversations_numbers_each_conversation_separately()
    {
        var (_, deployment) = await NewTenantAsync();
        var first = await NewConversationAsync(deployment);
        var second = await NewConversationAsync(deployment);

        var results = await Store.AppendMessagesAsync(
        [
            Text(second.Id, second.ConsumerId, "s1"),
            Text(first.Id, first.ConsumerId, "f1"),
            Text(second.Id, second.ConsumerId, "s2"),
        ], Ct);

        Assert.Equal([(second.Id, 1L), (first.Id, 1L), (second.Id, 2L)], results.Select(r => (r.Message.ConversationId, r.Message.Seq)));
    }

    [Fact]
    public async Task A_large_batch_is_stored_whole_and_numbered_per_conversation()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversations = new[] { await NewConversationAsync(deployment), await NewConversationAsync(deployment), await NewConversationAsync(deployment) };
        var batch = Enumerable.Range(0, 1200)
            .Select(i => Text(conversations[i % 3].Id, conversations[i % 3].ConsumerId, $"m-{i}", $"text {i}"))
            .ToList();

        var results = await Store.AppendMessagesAsync(batch, Ct);

        Assert.All(results, r => Assert.True(r.Created));
        foreach (var conversation in conversations)
        {
            var stored = await Store.GetMessagesAsync(conversation.Id, 0, 1000, Ct);
            Assert.Equal(Enumerable.Range(1, 400).Select(i => (long)i), stored.Select(m => m.Seq));
            Assert.Equal(400, (await Store.GetConversationAsync(conversation.Id, Ct))!.LastSeq);
        }

        Assert.Equal("text 1199", (await Store.GetMessagesAsync(conversations[2].Id, 399, 1, Ct)).Single().Text);
    }

    [Fact]
    public async Task Concurrent_appends_never_share_or_skip_a_sequence_number()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Store.AppendMessagesAsync([Text(conversation.Id, conversation.ConsumerId, $"c{i}")], Ct)));

        var stored = await Store.GetMessagesAsync(conversation.Id, 0, 1000, Ct);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), stored.Select(m => m.Seq));
        Assert.Equal(40, stored.Select(m => m.ClientMessageId).Distinct().Count());
    }

    [Fact]
    public async Task Appending_to_an_unknown_conversation_stores_nothing()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);

        await Assert.ThrowsAsync<KeyNotFoundException>(() => Store.AppendMessagesAsync(
            [Text(conversation.Id, conversation.ConsumerId, "ok"), Text(Guid.NewGuid(), Guid.NewGuid(), "lost")], Ct));

        Assert.Empty(await Store.GetMessagesAsync(conversation.Id, 0, 10, Ct));
        Assert.Equal(0, (await Store.GetConversationAsync(conversation.Id, Ct))!.LastSeq);
    }

    [Fact]
    public async Task A_guarded_message_is_checked_against_the_conversation_as_stored_and_a_refusal_does_not_sink_its_batch()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var (otherTenant, otherDeployment) = await NewTenantAsync("Other");
        var conversation = await NewConversationAsync(deployment);
        var foreign = await NewConversationAsync(otherDeployment);
        var closed = await NewConversationAsync(deployment);
        var agent = await NewAgentAsync(tenant.Id, "ana@acme.example");
        var colleague = await NewAgentAsync(tenant.Id, "bo@acme.example");
        Assert.Equal(AssignOutcome.Assigned, await Store.TryAssignConversationAsync(conversation.Id, agent.Id, T0, Ct));
        var consumer = conversation.ConsumerId;
        var stranger = Guid.NewGuid();
        NewMessage From(Guid conversationId, Guid sender, string clientId, AppendGuard guard) =>
            Text(conversationId, sender, clientId) with { Guard = guard };

        // Stored before the conversation closes: a resend still gets the original.
        var early = await Store.AppendMessagesAsync([From(closed.Id, closed.ConsumerId, "early", new(tenant.Id, ConsumerId: closed.ConsumerId))], Ct);
        Assert.True(await Store.SetConversationStatusAsync(closed.Id, ConversationStatus.Closed, T0.AddMinutes(1), Ct));

        var results = await Store.AppendMessagesAsync(
        [
            From(conversation.Id, consumer, "mine", new(tenant.Id, ConsumerId: consumer)),
            From(conversation.Id, stranger, "not-mine", new(tenant.Id, ConsumerId: stranger)),
            From(conversation.Id, agent.Id, "other-tenant", new(otherTenant.Id, AgentId: agent.Id)),
            From(foreign.Id, agent.Id, "foreign", new(tenant.Id, AgentId: agent.Id)),
            From(Guid.NewGuid(), consumer, "missing", new(tenant.Id, ConsumerId: consumer)),
            From(conversation.Id, colleague.Id, "colleague", new(tenant.Id, AgentId: colleague.Id)),
            From(conversation.Id, agent.Id, "assigned", new(tenant.Id, AgentId: agent.Id)) with { SenderRole = ParticipantRole.Agent },
            From(closed.Id, closed.ConsumerId, "late", new(tenant.Id, ConsumerId: closed.ConsumerId)),
            From(closed.Id, closed.ConsumerId, "early", new(tenant.Id, ConsumerId: closed.ConsumerId)),
        ], Ct);

        Assert.Equal(
            [null, AppendRefusal.NotFound, AppendRefusal.NotFound, AppendRefusal.NotFound, AppendRefusal.NotFound,
             AppendRefusal.NotAssigned, null, AppendRefusal.Closed, null],
            results.Select(r => r.Refusal));
        Assert.Equal([1L, 2L], results.Where(r => r.Created).Select(r => r.Message.Seq));
        Assert.Equal(early[0].Message, results[^1].Message);
        Assert.False(results[^1].Created);
        Assert.All(results.Where(r => r.Refusal is not null), r => Assert.Equal(0, r.Message.Seq));
        Assert.Equal(["mine", "assigned"], (await Store.GetMessagesAsync(conversation.Id, 0, 10, Ct)).Select(m => m.ClientMessageId));
        Assert.Empty(await Store.GetMessagesAsync(foreign.Id, 0, 10, Ct));
        Assert.Equal(["early"], (await Store.GetMessagesAsync(closed.Id, 0, 10, Ct)).Select(m => m.ClientMessageId));
    }

    [Fact]
    public async Task History_pages_by_sequence_number()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        await Store.AppendMessagesAsync(
            Enumerable.Range(1, 7).Select(i => Text(conversation.Id, conversation.ConsumerId, $"p{i}", $"text {i}")).ToList(), Ct);

        var page1 = await Store.GetMessagesAsync(conversation.Id, 0, 3, Ct);
        var page2 = await Store.GetMessagesAsync(conversation.Id, page1[^1].Seq, 3, Ct);
        var page3 = await Store.GetMessagesAsync(conversation.Id, page2[^1].Seq, 3, Ct);

        Assert.Equal([1L, 2L, 3L], page1.Select(m => m.Seq));
        Assert.Equal([4L, 5L, 6L], page2.Select(m => m.Seq));
        Assert.Equal([7L], page3.Select(m => m.Seq));
        Assert.Equal("text 7", page3[0].Text);
        Assert.Equal(T0, page3[0].SentAt);
        Assert.Equal(ParticipantRole.Consumer, page3[0].SenderRole);
    }

    [Fact]
    public async Task Event_messages_keep_their_kind_and_have_no_sender()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        await Store.AppendMessagesAsync(
            [new NewMessage(conversation.Id, MessageKind.Event, ParticipantRole.System, null, null, "conversation.closed", T0)], Ct);

        var stored = Assert.Single(await Store.GetMessagesAsync(conversation.Id, 0, 10, Ct));
        Assert.Equal(MessageKind.Event, stored.Kind);
        Assert.Null(stored.SenderId);
    }

    [Fact]
    public async Task Receipts_only_move_forward()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        var agent = Guid.NewGuid();

        await Store.UpsertReceiptAsync(new Receipt(conversation.Id, agent, ParticipantRole.Agent, 5, 3, T0), Ct);
        var lowered = await Store.UpsertReceiptAsync(new Receipt(conversation.Id, agent, ParticipantRole.Agent, 2, 1, T0), Ct);
        var readAhead = await Store.UpsertReceiptAsync(new Receipt(conversation.Id, agent, ParticipantRole.Agent, 0, 8, T0), Ct);

        Assert.Equal((5L, 3L), (lowered.DeliveredSeq, lowered.ReadSeq));
        Assert.Equal((8L, 8L), (readAhead.DeliveredSeq, readAhead.ReadSeq));
        var all = await Store.GetReceiptsAsync(conversation.Id, Ct);
        Assert.Equal(readAhead, Assert.Single(all));
    }

    [Fact]
    public async Task Authentication_settings_are_saved_replaced_listed_per_tenant_and_deleted()
    {
        var (acme, _) = await NewTenantAsync("Acme");
        var (globex, _) = await NewTenantAsync("Globex");
        var settings = new AuthenticationSettings
        {
            Id = Guid.NewGuid(), TenantId = acme.Id, Name = "Main site", Issuer = "https://idp.acme", ClientId = "parley",
            KeysUrl = "https://idp.acme/jwks", Flow = AuthenticationFlow.Code, ProtectedClientSecret = "CfDJ8-protected",
            ClaimMapping = new Dictionary<string, string> { ["given_name"] = "First name" }, SessionTtlMinutes = 30,
            CreatedAt = T0, UpdatedAt = T0,
        };
        await Store.SaveAuthenticationSettingsAsync(settings, Ct);
        await Store.SaveAuthenticationSettingsAsync(settings with { Id = Guid.NewGuid(), TenantId = globex.Id, Name = "Other" }, Ct);
        await Store.SaveAuthenticationSettingsAsync(settings with { Name = "Renamed", UpdatedAt = T0.AddMinutes(1) }, Ct);

        var stored = await Store.GetAuthenticationSettingsAsync(settings.Id, Ct);
        Assert.NotNull(stored);
        Assert.Equal("Renamed", stored.Name);
        Assert.Equal(AuthenticationFlow.Code, stored.Flow);
        Assert.Equal("CfDJ8-protected", stored.ProtectedClientSecret);
        Assert.Equal("First name", stored.ClaimMapping["given_name"]);
        Assert.Equal(30, stored.SessionTtlMinutes);
        Assert.Equal([settings.Id], (await Store.ListAuthenticationSettingsAsync(acme.Id, Ct)).Select(s => s.Id));
        var (_, web) = (acme, (await Store.GetDeploymentAsync((await NewTenantAsync("Initech")).Deployment.Id, Ct))!);
        Assert.Null(web.AuthenticationSettingsId);
        await Store.SetDeploymentAuthenticationSettingsAsync(web.Id, settings.Id, Ct);
        Assert.Equal(settings.Id, (await Store.GetDeploymentAsync(web.Id, Ct))!.AuthenticationSettingsId);
        await Store.SetDeploymentAuthenticationSettingsAsync(web.Id, null, Ct);
        Assert.Null((await Store.GetDeploymentAsync(web.Id, Ct))!.AuthenticationSettingsId);
        Assert.True(await Store.DeleteAuthenticationSettingsAsync(settings.Id, Ct));
        Assert.Null(await Store.GetAuthenticationSettingsAsync(settings.Id, Ct));
        Assert.False(await Store.DeleteAuthenticationSettingsAsync(settings.Id, Ct));
    }

    [Fact]
    public async Task The_latest_verified_identity_replaces_the_previous_one()
    {
        var (tenant, _) = await NewTenantAsync();
        var consumer = await Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp", "u-1", T0, Ct);
        Assert.Null(await Store.GetVerifiedIdentityAsync(consumer.Id, Ct));

        await Store.SaveVerifiedIdentityAsync(new VerifiedIdentity(consumer.Id, "https://idp", "u-1",
            new Dictionary<string, string> { ["email"] = "old@example.com" }, new Dictionary<string, string>(), null, T0, T0.AddHours(1)), Ct);
        await Store.SaveVerifiedIdentityAsync(new VerifiedIdentity(consumer.Id, "https://idp", "u-1",
            new Dictionary<string, string> { ["email"] = "new@example.com" }, new Dictionary<string, string> { ["msdyn_isvip"] = "true" }, "mfa", T0.AddDays(1), T0.AddDays(1).AddHours(1)), Ct);

        var identity = await Store.GetVerifiedIdentityAsync(consumer.Id, Ct);
        Assert.NotNull(identity);
        Assert.Equal("new@example.com", identity.VerifiedClaims["email"]);
        Assert.Equal("true", identity.ContextVariables["msdyn_isvip"]);
        Assert.Equal("mfa", identity.Acr);
        Assert.Equal(T0.AddDays(1).AddHours(1), identity.AuthenticatedUntil);
        Assert.Equal(((DateTimeOffset?)null, (string?)null), (identity.AuthTime, identity.Amr));

        await Store.SaveVerifiedIdentityAsync(identity with { AuthTime = T0.AddDays(1).AddMinutes(-5), Amr = "pwd otp" }, Ct);
        var how = (await Store.GetVerifiedIdentityAsync(consumer.Id, Ct))!;
        Assert.Equal((T0.AddDays(1).AddMinutes(-5), "pwd otp"), (how.AuthTime!.Value, how.Amr));
    }

    [Fact]
    public async Task A_login_state_is_consumed_once_and_never_after_it_expires()
    {
        var (tenant, deployment) = await NewTenantAsync();
        LoginState State(string hash, DateTimeOffset expires) =>
            new(hash, tenant.Id, deployment.Id, null, "nonce-" + hash, "verifier", "https://www.acme.example/cb", T0, expires);
        await Store.CreateLoginStateAsync(State("s1", T0.AddMinutes(10)), Ct);
        await Store.CreateLoginStateAsync(State("s2", T0.AddMinutes(10)), Ct);
        await Store.CreateLoginStateAsync(State("old", T0.AddMinutes(1)), Ct);

        var winners = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Store.ConsumeLoginStateAsync("s1", T0, Ct)));
        Assert.Single(winners, w => w is not null);
        Assert.Equal("nonce-s1", winners.Single(w => w is not null)!.Nonce);
        Assert.Null(await Store.ConsumeLoginStateAsync("s1", T0, Ct));
        Assert.Null(await Store.ConsumeLoginStateAsync("old", T0.AddMinutes(2), Ct));
        Assert.Null(await Store.ConsumeLoginStateAsync("unknown", T0, Ct));
        Assert.NotNull(await Store.ConsumeLoginStateAsync("s2", T0.AddMinutes(9), Ct));

        // A step-up's state keeps what the login must prove.
        await Store.CreateLoginStateAsync(State("step", T0.AddMinutes(10)) with { Assurance = new LoginAssurance("urn:loa:2", 300) }, Ct);
        Assert.Equal(new LoginAssurance("urn:loa:2", 300), (await Store.ConsumeLoginStateAsync("step", T0, Ct))!.Assurance);
    }

    [Fact]
    public async Task Expired_login_states_are_purged_and_live_ones_kept()
    {
        var (tenant, deployment) = await NewTenantAsync();
        foreach (var (hash, minutes) in new[] { ("old-1", 1), ("old-2", 5), ("live", 30) })
        {
            await Store.CreateLoginStateAsync(
                new LoginState(hash, tenant.Id, deployment.Id, null, "n", "v", "https://www.acme.example/cb", T0, T0.AddMinutes(minutes)), Ct);
        }

        Assert.Equal(2, await Store.PurgeExpiredLoginStatesAsync(T0.AddMinutes(10), Ct));
        Assert.Equal(0, await Store.PurgeExpiredLoginStatesAsync(T0.AddMinutes(10), Ct));
        Assert.NotNull(await Store.FindLoginStateAsync("live", T0.AddMinutes(10), Ct));
    }

    [Fact]
    public async Task A_deployment_bot_round_trips_and_can_be_removed()
    {
        var (_, deployment) = await NewTenantAsync();
        Assert.Null(deployment.Bot);
        var bot = new BotSettings
        {
            Greeting = "Hi!",
            Cases = [new BotCase("Statement copy", ["statement", "bank statement"], "Here it is.", RequiresAuthentication: true, HandOver: true, Queue: "billing")],
        };
        await Store.SetDeploymentBotAsync(deployment.Id, bot, Ct);

        var stored = (await Store.GetDeploymentAsync(deployment.Id, Ct))!.Bot;
        Assert.NotNull(stored);
        Assert.Equal("Hi!", stored.Greeting);
        var only = Assert.Single(stored.Cases);
        Assert.Equal(["statement", "bank statement"], only.Keywords);
        Assert.True(only.RequiresAuthentication);
        Assert.Equal("billing", only.Queue);
        await Store.SetDeploymentBotAsync(deployment.Id, null, Ct);
        Assert.Null((await Store.GetDeploymentAsync(deployment.Id, Ct))!.Bot);
    }

    [Fact]
    public async Task Retention_deletes_conversations_closed_before_the_cut_off_with_their_messages_and_keeps_the_rest()
    {
        var (_, deployment) = await NewTenantAsync();
        var old = await NewConversationAsync(deployment);
        var recent = await NewConversationAsync(deployment);
        var open = await NewConversationAsync(deployment);
        foreach (var conversation in new[] { old, recent, open })
        {
            await Store.AppendMessagesAsync([Text(conversation.Id, conversation.ConsumerId, "m")], Ct);
        }

        await Store.UpsertReceiptAsync(new Receipt(old.Id, Guid.NewGuid(), ParticipantRole.Agent, 1, 1, T0), Ct);
        await Store.CreateLoginStateAsync(
            new LoginState("retention-state", old.TenantId, deployment.Id, old.Id, "n", "v", "https://parley.example/auth/callback", T0, T0.AddMinutes(10), old.ConsumerId), Ct);
        Assert.True(await Store.SetConversationStatusAsync(old.Id, ConversationStatus.Closed, T0, Ct));
        Assert.True(await Store.SetConversationStatusAsync(recent.Id, ConversationStatus.Closed, T0.AddDays(10), Ct));

        Assert.Equal(1, await Store.DeleteClosedConversationsAsync(T0.AddDays(5), 100, Ct));
        Assert.Equal(0, await Store.DeleteClosedConversationsAsync(T0.AddDays(5), 100, Ct));

        Assert.Null(await Store.GetConversationAsync(old.Id, Ct));
        Assert.Empty(await Store.GetMessagesAsync(old.Id, 0, 10, Ct));
        Assert.NotNull(await Store.GetConversationAsync(recent.Id, Ct));
        Assert.Single(await Store.GetMessagesAsync(recent.Id, 0, 10, Ct));
        Assert.Single(await Store.GetMessagesAsync(open.Id, 0, 10, Ct));
        Assert.Equal(1, await Store.DeleteClosedConversationsAsync(T0.AddDays(11), 100, Ct));
        Assert.NotNull(await Store.GetConversationAsync(open.Id, Ct));
    }

    [Fact]
    public async Task Audit_events_are_listed_newest_first_per_tenant_by_kind_and_before_a_time()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var (other, _) = await NewTenantAsync();
        var actor = Guid.NewGuid();
        await Store.AppendAuditEventsAsync([new AuditEvent(Guid.NewGuid(), tenant.Id, T0, AuditKinds.Login, AuditEvent.Refused, "visitor", null, deployment.Id, Reason: "signature", Detail: "invalid_token")], Ct);
        await Store.AppendAuditEventsAsync([new AuditEvent(Guid.NewGuid(), tenant.Id, T0.AddSeconds(1), AuditKinds.Login, AuditEvent.Succeeded, "consumer", actor, deployment.Id, Subject: "customer-1")], Ct);
        await Store.AppendAuditEventsAsync([new AuditEvent(Guid.NewGuid(), tenant.Id, T0.AddSeconds(2), AuditKinds.BotChanged, AuditEvent.Succeeded, "agent", actor, deployment.Id)], Ct);
        await Store.AppendAuditEventsAsync([new AuditEvent(Guid.NewGuid(), other.Id, T0.AddSeconds(3), AuditKinds.Login, AuditEvent.Succeeded, "consumer", actor)], Ct);

        var all = await Store.ListAuditEventsAsync(tenant.Id, null, null, 10, Ct);
        Assert.Equal([AuditKinds.BotChanged, AuditKinds.Login, AuditKinds.Login], all.Select(e => e.Kind));
        var refused = all[2];
        Assert.Equal((AuditEvent.Refused, "visitor", (Guid?)null, "signature", "invalid_token", T0), (refused.Outcome, refused.ActorType, refused.ActorId, refused.Reason, refused.Detail, refused.At));
        Assert.Equal("customer-1", all[1].Subject);
        Assert.Equal(2, (await Store.ListAuditEventsAsync(tenant.Id, AuditKinds.Login, null, 10, Ct)).Count);
        Assert.Equal([T0], (await Store.ListAuditEventsAsync(tenant.Id, null, T0.AddSeconds(1), 10, Ct)).Select(e => e.At));
        Assert.Single(await Store.ListAuditEventsAsync(tenant.Id, null, null, 1, Ct));
    }

    [Fact]
    public async Task Audit_events_appended_together_are_stored_all_or_none()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var first = new AuditEvent(Guid.NewGuid(), tenant.Id, T0, AuditKinds.Login, AuditEvent.Succeeded, "consumer", Guid.NewGuid(), deployment.Id);
        var second = first with { Id = Guid.NewGuid(), At = T0.AddSeconds(1), Outcome = AuditEvent.Refused };
        await Store.AppendAuditEventsAsync([first, second], Ct);
        Assert.Equal([second.Id, first.Id], (await Store.ListAuditEventsAsync(tenant.Id, null, null, 10, Ct)).Select(e => e.Id));

        // The second event of this batch repeats an id: the first is not kept either.
        var third = first with { Id = Guid.NewGuid(), At = T0.AddSeconds(2) };
        await Assert.ThrowsAnyAsync<Exception>(() => Store.AppendAuditEventsAsync([third, first], Ct));
        Assert.Equal(2, (await Store.ListAuditEventsAsync(tenant.Id, null, null, 10, Ct)).Count);
    }

    [Fact]
    public async Task A_deployments_messenger_settings_round_trip_and_a_new_deployment_can_start_with_them()
    {
        var (tenant, deployment) = await NewTenantAsync();
        Assert.Null(deployment.Messenger);
        await Store.SetDeploymentMessengerAsync(deployment.Id, new MessengerSettings { WindowMode = WindowMode.Window, Title = "Help" }, Ct);
        var stored = (await Store.GetDeploymentAsync(deployment.Id, Ct))!.Messenger;
        Assert.Equal(WindowMode.Window, stored!.WindowMode);
        Assert.Equal("Help", stored.Title);
        await Store.SetDeploymentMessengerAsync(deployment.Id, null, Ct);
        Assert.Null((await Store.GetDeploymentAsync(deployment.Id, Ct))!.Messenger);

        var created = new Deployment(Guid.NewGuid(), tenant.Id, "window", ["https://brand.example"], T0, Messenger: new MessengerSettings { WindowMode = WindowMode.Window });
        await Store.CreateDeploymentAsync(created, Ct);
        Assert.Equal(WindowMode.Window, (await Store.GetDeploymentAsync(created.Id, Ct))!.Messenger!.WindowMode);
    }

    [Fact]
    public async Task A_conversation_moves_to_the_consumer_who_logged_in_with_its_history()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var anonymous = Consumer.Anonymous(tenant.Id, T0);
        var conversation = await NewConversationAsync(deployment, anonymous);
        await Store.AppendMessagesAsync([Text(conversation.Id, anonymous.Id, "c1")], Ct);
        var user = await Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp", "u-1", T0, Ct);
        var other = await Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp", "u-2", T0, Ct);

        Assert.Equal(TransferOutcome.NotOwned, await Store.TransferConversationAsync(conversation.Id, other.Id, user.Id, true, T0, Ct));
        Assert.Equal(TransferOutcome.Transferred, await Store.TransferConversationAsync(conversation.Id, anonymous.Id, user.Id, true, T0.AddMinutes(1), Ct));
        Assert.Equal(TransferOutcome.NotOwned, await Store.TransferConversationAsync(conversation.Id, anonymous.Id, other.Id, true, T0, Ct));

        var moved = (await Store.GetConversationAsync(conversation.Id, Ct))!;
        Assert.Equal(user.Id, moved.ConsumerId);
        Assert.True(moved.Authenticated);
        Assert.Equal([conversation.Id], (await Store.ListConversationsByConsumerAsync(user.Id, Ct)).Select(c => c.Id));
        Assert.Empty(await Store.ListConversationsByConsumerAsync(anonymous.Id, Ct));
        Assert.Equal("c1", Assert.Single(await Store.GetMessagesAsync(conversation.Id, 0, 10, Ct)).ClientMessageId);
    }

    [Fact]
    public async Task A_conversation_records_its_bot_case_and_keeps_its_queue()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        await Store.SetConversationBotCaseAsync(conversation.Id, "Opening hours", T0, Ct);
        var stored = (await Store.GetConversationAsync(conversation.Id, Ct))!;
        Assert.Equal(("Opening hours", "default"), (stored.BotCase, stored.Queue));
    }

    [Fact]
    public async Task Event_data_is_stored_with_the_message()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        await Store.AppendMessagesAsync(
            [new NewMessage(conversation.Id, MessageKind.Event, ParticipantRole.Bot, null, null, "authentication.requested", T0, """{"url":"https://idp/authorize"}""")], Ct);
        var stored = Assert.Single(await Store.GetMessagesAsync(conversation.Id, 0, 10, Ct));
        Assert.Equal("""{"url":"https://idp/authorize"}""", stored.Data);
    }

    [Fact]
    public async Task A_login_state_can_be_looked_at_without_being_used_up()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var conversation = await NewConversationAsync(deployment);
        await Store.CreateLoginStateAsync(
            new LoginState("s1", tenant.Id, deployment.Id, conversation.Id, "n", "v", "https://parley.example/auth/callback", T0, T0.AddMinutes(10), conversation.ConsumerId), Ct);

        var seen = await Store.FindLoginStateAsync("s1", T0, Ct);
        Assert.Equal((conversation.Id, conversation.ConsumerId), (seen!.ConversationId, seen.ConsumerId));
        Assert.Null(await Store.FindLoginStateAsync("s1", T0.AddMinutes(11), Ct));
        Assert.NotNull(await Store.ConsumeLoginStateAsync("s1", T0, Ct));
        Assert.Null(await Store.FindLoginStateAsync("s1", T0, Ct));
    }

    [Fact]
    public async Task Failed_sign_ins_are_counted_per_key_locked_as_told_cleared_and_purged()
    {
        Assert.Null(await Store.GetSignInLockAsync("k1", Ct));
        var counts = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            counts.Add(await Store.RecordSignInFailureAsync("k1", T0, n => n >= 3 ? TimeSpan.FromMinutes(2) : null, Ct));
        }

        Assert.Equal([1, 2, 3], counts);
        Assert.Equal(T0.AddMinutes(2), await Store.GetSignInLockAsync("k1", Ct));
        Assert.Equal(1, await Store.RecordSignInFailureAsync("k2", T0, _ => null, Ct));
        Assert.Null(await Store.GetSignInLockAsync("k2", Ct));

        await Store.ClearSignInFailuresAsync("k1", Ct);
        Assert.Null(await Store.GetSignInLockAsync("k1", Ct));
        Assert.Equal(1, await Store.RecordSignInFailureAsync("k1", T0, _ => null, Ct));

        Assert.Equal(2, await Store.PurgeSignInFailuresAsync(T0.AddDays(1), Ct));
        Assert.Equal(1, await Store.RecordSignInFailureAsync("k2", T0, _ => null, Ct));
    }

    [Fact]
    public async Task Audit_events_older_than_a_time_are_deleted_in_batches_oldest_first()
    {
        var (tenant, deployment) = await NewTenantAsync();
        await Store.AppendAuditEventsAsync(
            [.. Enumerable.Range(0, 5).Select(i => new AuditEvent(Guid.NewGuid(), tenant.Id, T0.AddDays(i), AuditKinds.Login, AuditEvent.Refused, "visitor", null, deployment.Id, Reason: $"day-{i}"))],
            Ct);

        Assert.Equal(2, await Store.DeleteAuditEventsAsync(T0.AddDays(3), 2, Ct));
        Assert.Equal(1, await Store.DeleteAuditEventsAsync(T0.AddDays(3), 2, Ct));
        Assert.Equal(0, await Store.DeleteAuditEventsAsync(T0.AddDays(3), 2, Ct));

        var left = await Store.ListAuditEventsAsync(tenant.Id, null, null, 10, Ct);
        Assert.Equal(["day-4", "day-3"], left.Select(e => e.Reason!));
    }

    [Fact]
    public async Task A_consumer_is_found_by_issuer_and_subject_and_all_their_device_sessions_end_at_once()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var ada = await Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp.example", "ada", T0, Ct);
        var grace = await Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp.example", "grace", T0, Ct);
        foreach (var (hash, consumer) in new[] { ("a1", ada), ("a2", ada), ("g1", grace) })
        {
            await Store.CreateConsumerSessionAsync(new ConsumerSession(hash, consumer.Id, tenant.Id, deployment.Id, T0, T0.AddHours(1)), Ct);
        }

        Assert.Equal(ada.Id, (await Store.FindAuthenticatedConsumerAsync(tenant.Id, "https://idp.example", "ada", Ct))!.Id);
        Assert.Null(await Store.FindAuthenticatedConsumerAsync(tenant.Id, "https://other.example", "ada", Ct));
        Assert.Null(await Store.FindAuthenticatedConsumerAsync(Guid.NewGuid(), "https://idp.example", "ada", Ct));

        Assert.Equal(2, await Store.DeleteConsumerSessionsAsync(ada.Id, Ct));
        Assert.Null(await Store.GetConsumerSessionAsync("a1", Ct));
        Assert.Null(await Store.GetConsumerSessionAsync("a2", Ct));
        Assert.NotNull(await Store.GetConsumerSessionAsync("g1", Ct));
    }

    [Fact]
    public async Task A_token_id_is_used_once_until_it_is_purged()
    {
        Assert.False(await Store.IsTokenIdUsedAsync("jti-1", Ct));
        Assert.True(await Store.TryUseTokenIdAsync("jti-1", T0.AddMinutes(5), Ct));
        Assert.True(await Store.IsTokenIdUsedAsync("jti-1", Ct));
        Assert.False(await Store.TryUseTokenIdAsync("jti-1", T0.AddMinutes(5), Ct));
        Assert.True(await Store.TryUseTokenIdAsync("jti-2", T0.AddMinutes(50), Ct));

        Assert.Equal(1, await Store.PurgeUsedTokenIdsAsync(T0.AddMinutes(10), Ct));
        Assert.True(await Store.TryUseTokenIdAsync("jti-1", T0.AddMinutes(15), Ct));
        Assert.False(await Store.TryUseTokenIdAsync("jti-2", T0.AddMinutes(50), Ct));
    }

    [Fact]
    public async Task A_transferred_conversation_has_one_consumer_receipt_with_the_furthest_marks()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var device = Consumer.Anonymous(tenant.Id, T0);
        var conversation = await NewConversationAsync(deployment, device);
        var customer = await Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp.example", "ada", T0, Ct);
        await Store.UpsertReceiptAsync(new Receipt(conversation.Id, device.Id, ParticipantRole.Consumer, 5, 3, T0), Ct);
        await Store.UpsertReceiptAsync(new Receipt(conversation.Id, customer.Id, ParticipantRole.Consumer, 2, 2, T0), Ct);
        var agentId = Guid.NewGuid();
        await Store.UpsertReceiptAsync(new Receipt(conversation.Id, agentId, ParticipantRole.Agent, 4, 4, T0), Ct);

        Assert.Equal(TransferOutcome.Transferred, await Store.TransferConversationAsync(conversation.Id, device.Id, customer.Id, authenticated: true, T0.AddMinutes(1), Ct));
        Assert.Equal(TransferOutcome.NotOwned, await Store.TransferConversationAsync(conversation.Id, device.Id, customer.Id, authenticated: true, T0.AddMinutes(1), Ct));

        var receipts = await Store.GetReceiptsAsync(conversation.Id, Ct);
        var consumer = Assert.Single(receipts, r => r.Role == ParticipantRole.Consumer);
        Assert.Equal((customer.Id, 5L, 3L), (consumer.ParticipantId, consumer.DeliveredSeq, consumer.ReadSeq));
        Assert.Contains(receipts, r => r.ParticipantId == agentId);
        Assert.Equal(customer.Id, (await Store.GetConversationAsync(conversation.Id, Ct))!.ConsumerId);
    }

    [Fact]
    public async Task A_consumer_has_one_open_conversation_per_deployment()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var (_, otherDeployment) = await NewTenantAsync();
        var customer = await Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp.example", "one-open", T0, Ct);
        var first = await NewConversationAsync(deployment, customer);
        var second = first with { Id = Guid.NewGuid() };

        Assert.False(await Store.CreateConversationAsync(second, Ct));
        Assert.Null(await Store.GetConversationAsync(second.Id, Ct));

        // Once the first is closed, a new one may open; on another deployment, one more may be open.
        Assert.True(await Store.SetConversationStatusAsync(first.Id, ConversationStatus.Closed, T0.AddMinutes(1), Ct));
        Assert.True(await Store.CreateConversationAsync(second, Ct));
        Assert.True(await Store.CreateConversationAsync(second with { Id = Guid.NewGuid(), DeploymentId = otherDeployment.Id, TenantId = otherDeployment.TenantId }, Ct));

        // Reopening the first would make two open ones: refused.
        await Assert.ThrowsAsync<DuplicateKeyException>(() => Store.SetConversationStatusAsync(first.Id, ConversationStatus.Open, T0.AddMinutes(2), Ct));
    }

    [Fact]
    public async Task A_transfer_to_a_customer_with_an_open_conversation_changes_nothing()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var customer = await Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp.example", "has-one", T0, Ct);
        await NewConversationAsync(deployment, customer);
        var device = Consumer.Anonymous(tenant.Id, T0);
        var anonymous = await NewConversationAsync(deployment, device);

        Assert.Equal(TransferOutcome.CustomerHasOpen, await Store.TransferConversationAsync(anonymous.Id, device.Id, customer.Id, true, T0.AddMinutes(1), Ct));
        Assert.Equal(device.Id, (await Store.GetConversationAsync(anonymous.Id, Ct))!.ConsumerId);
    }

    [Fact]
    public async Task A_merge_closes_one_conversation_and_appends_copies_of_its_text_to_the_other_with_the_agent_kept()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var customer = await Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp.example", "merge", T0, Ct);
        var into = await NewConversationAsync(deployment, customer);
        var device = Consumer.Anonymous(tenant.Id, T0);
        var from = await NewConversationAsync(deployment, device);
        var agent = await NewAgentAsync(tenant.Id, "merge@example.com");
        Assert.Equal(AssignOutcome.Assigned, await Store.TryAssignConversationAsync(from.Id, agent.Id, T0, Ct));
        await Store.AppendMessagesAsync([Text(into.Id, customer.Id, "c-i1", "i1")], Ct);
        await Store.AppendMessagesAsync([Text(from.Id, device.Id, "c-f1", "f1"), Text(from.Id, device.Id, "c-f2", "f2")], Ct);
        await Store.AppendMessagesAsync([new NewMessage(from.Id, MessageKind.Event, ParticipantRole.System, null, null, "authentication.requested", T0, "{}")], Ct);

        // Refused: not the device's conversation, or the same one, or into a closed one; nothing changes.
        Assert.Null(await Store.MergeConversationAsync(from.Id, customer.Id, into.Id, T0, Ct));
        Assert.Null(await Store.MergeConversationAsync(into.Id, customer.Id, into.Id, T0, Ct));

        var merged = await Store.MergeConversationAsync(from.Id, device.Id, into.Id, T0.AddMinutes(1), Ct);

        Assert.NotNull(merged);
        Assert.Equal(agent.Id, merged.AgentMoved);
        Assert.Equal(["f1", "f2"], merged.Copied.Select(m => m.Text));
        Assert.Equal([2L, 3L], merged.Copied.Select(m => m.Seq));
        Assert.All(merged.Copied, m => Assert.Equal((device.Id, ParticipantRole.Consumer, (string?)null), (m.SenderId!.Value, m.SenderRole, m.ClientMessageId)));
        Assert.All(merged.Copied, m => Assert.Contains(from.Id.ToString(), m.Data));
        var survivor = (await Store.GetConversationAsync(into.Id, Ct))!;
        Assert.Equal((3L, agent.Id, true), (survivor.LastSeq, survivor.AssignedAgentId!.Value, survivor.IsOpen));
        Assert.Equal(["i1", "f1", "f2"], (await Store.GetMessagesAsync(into.Id, 0, 10, Ct)).Select(m => m.Text));
        Assert.False((await Store.GetConversationAsync(from.Id, Ct))!.IsOpen);

        // The survivor's next message follows the copies; merging again changes nothing.
        var next = await Store.AppendMessagesAsync([Text(into.Id, customer.Id, "c-i2", "i2")], Ct);
        Assert.Equal(4, next[0].Message.Seq);
        Assert.Null(await Store.MergeConversationAsync(from.Id, device.Id, into.Id, T0.AddMinutes(2), Ct));
    }

    [Fact]
    public async Task A_merge_into_a_conversation_with_an_agent_keeps_that_agent()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var customer = await Store.GetOrCreateAuthenticatedConsumerAsync(tenant.Id, "https://idp.example", "kept", T0, Ct);
        var into = await NewConversationAsync(deployment, customer);
        var from = await NewConversationAsync(deployment);
        var keeper = await NewAgentAsync(tenant.Id, "keeper@example.com");
        var other = await NewAgentAsync(tenant.Id, "other@example.com");
        await Store.TryAssignConversationAsync(into.Id, keeper.Id, T0, Ct);
        await Store.TryAssignConversationAsync(from.Id, other.Id, T0, Ct);

        var merged = await Store.MergeConversationAsync(from.Id, from.ConsumerId, into.Id, T0.AddMinutes(1), Ct);

        Assert.NotNull(merged);
        Assert.Null(merged.AgentMoved);
        Assert.Empty(merged.Copied);
        Assert.Equal(keeper.Id, (await Store.GetConversationAsync(into.Id, Ct))!.AssignedAgentId);
    }
}
