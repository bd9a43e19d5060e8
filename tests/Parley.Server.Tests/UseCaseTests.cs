using System.Collections.Concurrent;
using System.Security.Cryptography;
using Parley.Agents;
using Parley.Authentication;
using Parley.Conversations;
using Parley.Demo;
using Parley.Identity.Tokens;
using Parley.Messaging;
using Parley.Security;

namespace Parley.Server.Tests;

/// <summary>
/// The use cases (conversation lifecycle, assignment, routing, visitor sign-in) called as the
/// endpoints and the frame dispatcher call them, on a host without a web server: what they store,
/// what they publish, and what they refuse, with no HTTP or socket in between.
/// </summary>
public sealed class UseCaseTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>The demo deployment without a bot: a new conversation goes straight to routing.</summary>
    private static readonly Guid NoBot = DemoOptions.DeploymentId;

    private sealed class Recorder : ILiveSubscriber
    {
        private readonly ConcurrentQueue<Conversation> _changes = new();

        public IReadOnlyList<Conversation> Changes => [.. _changes];

        public void OnEvent(LiveEvent liveEvent)
        {
            if (liveEvent is ConversationChanged changed)
            {
                _changes.Enqueue(changed.Conversation);
            }
        }
    }

    [Fact]
    public async Task Closing_stores_the_change_records_its_event_and_publishes_the_stored_conversation_once()
    {
        await using var host = await UseCaseHost.StartAsync();
        var conversations = host.Get<ConversationService>();
        var visitor = await host.NewVisitorAsync(NoBot);
        var started = await conversations.StartAsync(visitor, null, None);
        var recorder = new Recorder();
        using var watching = host.Get<ILiveFanout>().SubscribeTenant(visitor.TenantId, recorder);

        var closed = await conversations.CloseAsync(visitor, started.Id, None);

        Assert.Equal(ConversationStatus.Closed, (await host.Store.GetConversationAsync(started.Id, None))!.Status);
        var history = await conversations.HistoryAsync(visitor, started.Id, 0, 50, None);
        var happened = history[^1];
        Assert.Equal((MessageKind.Event, SystemEvents.ConversationClosed, ParticipantRole.Consumer, (Guid?)visitor.ConsumerId),
            (happened.Kind, happened.Text, happened.SenderRole, happened.SenderId));
        var told = Assert.Single(recorder.Changes);
        Assert.Equal(ConversationStatus.Closed, told.Status);
        Assert.Equal(happened.Seq, told.LastSeq); // published after the event: watchers' lastSeq counts it
        Assert.Equal(told, closed);

        // Closing again changes nothing, so nothing is recorded or told.
        await conversations.CloseAsync(visitor, started.Id, None);
        Assert.Single(recorder.Changes);
        Assert.Equal(history.Count, (await conversations.HistoryAsync(visitor, started.Id, 0, 50, None)).Count);
    }

    [Fact]
    public async Task An_agent_who_resumes_a_closed_conversation_takes_it_and_the_event_names_them()
    {
        await using var host = await UseCaseHost.StartAsync();
        var conversations = host.Get<ConversationService>();
        var visitor = await host.NewVisitorAsync(NoBot);
        var agent = await host.AgentAsync();
        var started = await conversations.StartAsync(visitor, null, None);
        await conversations.CloseAsync(visitor, started.Id, None);
        var recorder = new Recorder();
        using var watching = host.Get<ILiveFanout>().SubscribeTenant(visitor.TenantId, recorder);

        var resumed = await conversations.ResumeAsync(agent, started.Id, None);

        Assert.Equal((ConversationStatus.Open, (Guid?)agent.AgentId), (resumed.Status, resumed.AssignedAgentId));
        var happened = (await conversations.HistoryAsync(agent, started.Id, 0, 50, None))[^1];
        Assert.Equal((SystemEvents.ConversationResumed, ParticipantRole.Agent, (Guid?)agent.AgentId), (happened.Text, happened.SenderRole, happened.SenderId));
        Assert.Equal(happened.Seq, recorder.Changes[^1].LastSeq);
        Assert.Equal(agent.AgentId, recorder.Changes[^1].AssignedAgentId);
    }

    [Fact]
    public async Task A_visitor_whose_session_ended_cannot_send_from_a_connection_opened_before()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = await UseCaseHost.StartAsync(clock);
        var conversations = host.Get<ConversationService>();
        var visitor = await host.NewVisitorAsync(NoBot);
        var started = await conversations.StartAsync(visitor, null, None);
        await conversations.SendAsync(visitor, started.Id, "c-1", "hello", None);

        clock.Advance(TimeSpan.FromDays(2)); // past the device session's end

        var refused = await Assert.ThrowsAsync<ParleyException>(() => conversations.SendAsync(visitor, started.Id, "c-2", "still there?", None));
        Assert.Equal((ErrorCodes.AuthenticationExpired, 401), (refused.Code, refused.Status));
        Assert.Single(await host.Store.GetMessagesAsync(started.Id, 0, 50, None), m => m.Kind == MessageKind.Text);
    }

    [Fact]
    public async Task Accept_is_refused_outside_the_agents_queues_and_to_a_second_agent()
    {
        await using var host = await UseCaseHost.StartAsync();
        var conversations = host.Get<ConversationService>();
        var visitor = await host.NewVisitorAsync(NoBot);
        var waiting = await conversations.StartAsync(visitor, null, None);
        Assert.Equal("general", waiting.Queue); // the demo's routing: anonymous visitors wait in general

        var vipOnly = new Agent(Guid.NewGuid(), visitor.TenantId, "vip@demo.parley.test", "VIP desk", "", AgentRole.Agent, 5, DateTimeOffset.UtcNow, ["vip"]);
        await host.Store.CreateAgentAsync(vipOnly, None);
        var outside = await Assert.ThrowsAsync<ParleyException>(() =>
            conversations.AcceptAsync(new AgentCaller(vipOnly.Id, vipOnly.TenantId, vipOnly.Role, "s", DateTimeOffset.MaxValue), waiting.Id, None));
        Assert.Equal((ErrorCodes.NotInQueue, 403), (outside.Code, outside.Status));

        var agent = await host.AgentAsync();
        Assert.Equal(agent.AgentId, (await conversations.AcceptAsync(agent, waiting.Id, None)).AssignedAgentId);
        var admin = await host.AgentAsync(DemoOptions.AdminEmail);
        var taken = await Assert.ThrowsAsync<ParleyException>(() => conversations.AcceptAsync(admin, waiting.Id, None));
        Assert.Equal((ErrorCodes.AlreadyAssigned, 409), (taken.Code, taken.Status));
        Assert.Equal(agent.AgentId, (await host.Store.GetConversationAsync(waiting.Id, None))!.AssignedAgentId);
    }

    private static async Task<AgentCaller> AgentServingAsync(UseCaseHost host, AgentRole role, params string[] queues)
    {
        var agent = new Agent(Guid.NewGuid(), DemoOptions.TenantId, $"{Guid.NewGuid():N}@demo.parley.test", "Desk", "", role, 5, DateTimeOffset.UtcNow, queues);
        await host.Store.CreateAgentAsync(agent, None);
        return new AgentCaller(agent.Id, agent.TenantId, agent.Role, "s", DateTimeOffset.MaxValue);
    }

    [Fact]
    public async Task An_agent_cannot_close_a_conversation_they_do_not_hold()
    {
        await using var host = await UseCaseHost.StartAsync();
        var conversations = host.Get<ConversationService>();
        var waiting = await conversations.StartAsync(await host.NewVisitorAsync(NoBot), null, None);
        var agent = await host.AgentAsync();

        var refused = await Assert.ThrowsAsync<ParleyException>(() => conversations.CloseAsync(agent, waiting.Id, None));

        Assert.Equal((ErrorCodes.NotAssigned, 409), (refused.Code, refused.Status));
        Assert.True((await host.Store.GetConversationAsync(waiting.Id, None))!.IsOpen);
    }

    [Fact]
    public async Task Closing_then_resuming_does_not_take_a_conversation_outside_the_agents_queues()
    {
        await using var host = await UseCaseHost.StartAsync();
        var conversations = host.Get<ConversationService>();
        var visitor = await host.NewVisitorAsync(NoBot);
        var vip = await conversations.StartAsync(visitor, null, None);
        Assert.True(await host.Store.RouteConversationAsync(vip.Id, "vip", 100, "VIP", null, DateTimeOffset.UtcNow, None));
        var general = await AgentServingAsync(host, AgentRole.Agent, "general");

        Assert.Equal(ErrorCodes.NotInQueue, (await Assert.ThrowsAsync<ParleyException>(() => conversations.AcceptAsync(general, vip.Id, None))).Code);
        Assert.Equal(ErrorCodes.NotAssigned, (await Assert.ThrowsAsync<ParleyException>(() => conversations.CloseAsync(general, vip.Id, None))).Code);
        await conversations.CloseAsync(visitor, vip.Id, None);
        Assert.Equal(ErrorCodes.NotInQueue, (await Assert.ThrowsAsync<ParleyException>(() => conversations.ResumeAsync(general, vip.Id, None))).Code);
        await Assert.ThrowsAsync<ParleyException>(() => conversations.SendAsync(general, vip.Id, "c-1", "hello", None));

        var stored = (await host.Store.GetConversationAsync(vip.Id, None))!;
        Assert.Equal((ConversationStatus.Closed, (Guid?)null), (stored.Status, stored.AssignedAgentId));
    }

    [Fact]
    public async Task An_admin_may_go_beyond_the_agent_rule_and_the_audit_log_records_each_time()
    {
        await using var host = await UseCaseHost.StartAsync();
        var conversations = host.Get<ConversationService>();
        var vip = await conversations.StartAsync(await host.NewVisitorAsync(NoBot), null, None);
        Assert.True(await host.Store.RouteConversationAsync(vip.Id, "vip", 100, "VIP", null, DateTimeOffset.UtcNow, None));
        var admin = await AgentServingAsync(host, AgentRole.Admin, "general");

        await conversations.CloseAsync(admin, vip.Id, None);
        await conversations.ResumeAsync(admin, vip.Id, None);

        var overrides = await host.Store.ListAuditEventsAsync(DemoOptions.TenantId, Parley.Audit.AuditKinds.AdminOverride, null, 10, None);
        Assert.Equal<string?>([ErrorCodes.NotInQueue, ErrorCodes.NotAssigned], overrides.Select(e => e.Reason)); // newest first
        Assert.All(overrides, e => Assert.Equal((admin.AgentId, vip.Id), (e.ActorId!.Value, e.ConversationId!.Value)));
        Assert.Equal(admin.AgentId, (await host.Store.GetConversationAsync(vip.Id, None))!.AssignedAgentId);
    }

    [Fact]
    public async Task Take_next_assigns_the_highest_priority_first_then_the_longest_wait()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = await UseCaseHost.StartAsync(clock);
        var conversations = host.Get<ConversationService>();
        var older = await conversations.StartAsync(await host.NewVisitorAsync(NoBot), null, None);
        clock.Advance(TimeSpan.FromMinutes(1));
        var newer = await conversations.StartAsync(await host.NewVisitorAsync(NoBot), null, None);
        clock.Advance(TimeSpan.FromMinutes(1));
        var urgent = await conversations.StartAsync(await host.NewVisitorAsync(NoBot), null, None);
        Assert.True(await host.Store.RouteConversationAsync(urgent.Id, "vip", 100, "VIP", null, clock.GetUtcNow(), None));

        var admin = await host.AgentAsync(DemoOptions.AdminEmail);
        var order = new List<Guid?>();
        for (var i = 0; i < 4; i++)
        {
            order.Add((await conversations.TakeNextAsync(admin, None))?.Id);
        }

        Assert.Equal([urgent.Id, older.Id, newer.Id, null], order);
    }

    [Fact]
    public async Task New_facts_from_the_page_route_a_waiting_conversation_again_and_agents_are_told()
    {
        await using var host = await UseCaseHost.StartAsync();
        await host.Store.SaveRoutingConfigurationAsync(DemoOptions.TenantId, DemoOptions.Routing with
        {
            Rules = [new Parley.Routing.RoutingRule("Big cart", "attribute.cart > 1000", "vip", 50)],
        }, DateTimeOffset.UtcNow, None);
        host.Get<Parley.Routing.RoutingConfigurations>().Forget(DemoOptions.TenantId);
        var conversations = host.Get<ConversationService>();
        var visitor = await host.NewVisitorAsync(NoBot);
        var started = await conversations.StartAsync(visitor, new Dictionary<string, string> { ["cart"] = "20" }, None);
        Assert.Equal("general", started.Queue);
        var recorder = new Recorder();
        using var watching = host.Get<ILiveFanout>().SubscribeTenant(visitor.TenantId, recorder);

        await conversations.StartAsync(visitor, new Dictionary<string, string> { ["cart"] = "2500" }, None);

        var routed = (await host.Store.GetConversationAsync(started.Id, None))!;
        Assert.Equal(("vip", 50), (routed.Queue, routed.Priority));
        Assert.Equal("2500", recorder.Changes[0].Attributes["cart"]); // the page's new facts, told before the move
        Assert.Equal("vip", recorder.Changes[^1].Queue);
    }

    public static TheoryData<string, Func<RSA, RSA, string>, string, string> Refusals => new()
    {
        { "forged signature", (_, other) => Token(other, "C-1"), OAuthErrors.InvalidToken, "signature" },
        { "another audience", (brand, _) => Token(brand, "C-1", audience: "someone-else"), OAuthErrors.InvalidToken, "aud" },
        { "expired", (brand, _) => Token(brand, "C-1", lifetime: TimeSpan.FromMinutes(-10)), OAuthErrors.InvalidToken, "exp" },
        { "not a JWT", (_, _) => "not-a-token", OAuthErrors.InvalidToken, "format" },
        { "a NUL in sub", (brand, _) => Token(brand, "C-1\u0000"), OAuthErrors.InvalidToken, "claims" },
        { "a logout token", (brand, _) => LogoutToken(brand), OAuthErrors.InvalidToken, "events" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_page_token_that_fails_a_check_is_refused_with_that_check(
        string id, Func<RSA, RSA, string> mint, string error, string check)
    {
        await using var host = await UseCaseHost.StartAsync();
        using var brand = RSA.Create(2048);
        using var other = RSA.Create(2048);
        await TestTokens.AttachSettingsAsync(host.Store, DemoOptions.ImplicitDeploymentId, brand);
        var deployment = (await host.Store.GetDeploymentAsync(DemoOptions.ImplicitDeploymentId, None))!;

        var refused = await Assert.ThrowsAsync<ParleyException>(() =>
            host.Get<VisitorSignIn>().PreChatAsync(deployment, new PreChatProof(mint(brand, other), null, null, null, null, null), None));

        Assert.True((error, check) == (refused.Code, refused.FailedCheck), $"{id}: {refused.Code} at {refused.FailedCheck}");
        Assert.Equal(401, refused.Status);
    }

    [Fact]
    public async Task A_page_token_signs_the_visitor_in_as_one_consumer_per_subject_on_every_device()
    {
        await using var host = await UseCaseHost.StartAsync();
        using var brand = RSA.Create(2048);
        await TestTokens.AttachSettingsAsync(host.Store, DemoOptions.ImplicitDeploymentId, brand);
        var deployment = (await host.Store.GetDeploymentAsync(DemoOptions.ImplicitDeploymentId, None))!;
        var signIn = host.Get<VisitorSignIn>();

        var phone = await signIn.PreChatAsync(deployment, new PreChatProof(Token(brand, "C-1815"), null, null, null, null, null), None);
        var laptop = await signIn.PreChatAsync(deployment, new PreChatProof(Token(brand, "C-1815"), null, null, null, null, null), None);
        var someoneElse = await signIn.PreChatAsync(deployment, new PreChatProof(Token(brand, "C-1906"), null, null, null, null, null), None);

        Assert.True(phone.Consumer.IsAuthenticated);
        Assert.Equal(phone.Consumer.Id, laptop.Consumer.Id);
        Assert.NotEqual(phone.Caller.SessionHash, laptop.Caller.SessionHash); // a device session each
        Assert.NotEqual(phone.Consumer.Id, someoneElse.Consumer.Id);
        Assert.Equal("Ada", (await host.Store.GetVerifiedIdentityAsync(phone.Consumer.Id, None))!.VerifiedClaims["given_name"]);
    }

    [Fact]
    public async Task A_code_flow_record_refuses_a_bare_token_and_an_implicit_one_refuses_a_code()
    {
        await using var host = await UseCaseHost.StartAsync();
        using var brand = RSA.Create(2048);
        var signIn = host.Get<VisitorSignIn>();
        await TestTokens.AttachSettingsAsync(host.Store, DemoOptions.CodeFlowDeploymentId, brand, flow: AuthenticationFlow.Code);
        await TestTokens.AttachSettingsAsync(host.Store, DemoOptions.ImplicitDeploymentId, brand);
        var codeFlow = (await host.Store.GetDeploymentAsync(DemoOptions.CodeFlowDeploymentId, None))!;
        var implicitFlow = (await host.Store.GetDeploymentAsync(DemoOptions.ImplicitDeploymentId, None))!;

        // A valid token of the brand would skip PKCE, the nonce and the client secret.
        var bareToken = await Assert.ThrowsAsync<ParleyException>(() =>
            signIn.PreChatAsync(codeFlow, new PreChatProof(Token(brand, "C-1815"), null, null, null, null, null), None));
        var code = await Assert.ThrowsAsync<ParleyException>(() =>
            signIn.PreChatAsync(implicitFlow, new PreChatProof(null, "a-code", "a-state", null, null, null), None));

        Assert.Equal((OAuthErrors.InvalidRequest, "flow", 400), (bareToken.Code, bareToken.FailedCheck, bareToken.Status));
        Assert.Equal((OAuthErrors.InvalidRequest, "flow", 400), (code.Code, code.FailedCheck, code.Status));
    }

    [Fact]
    public async Task A_token_carrying_parleys_nonce_is_refused_without_its_login_state()
    {
        await using var host = await UseCaseHost.StartAsync();
        using var brand = RSA.Create(2048);
        await TestTokens.AttachSettingsAsync(host.Store, DemoOptions.ImplicitDeploymentId, brand);
        var deployment = (await host.Store.GetDeploymentAsync(DemoOptions.ImplicitDeploymentId, None))!;
        var visitor = await host.NewVisitorAsync(DemoOptions.ImplicitDeploymentId);
        var conversation = await host.Get<ConversationService>().StartAsync(visitor, null, None);
        var answered = Token(brand, "C-1815", nonce: LoginLinks.NoncePrefix + "issued-for-another-conversations-link");

        var asPageToken = await Assert.ThrowsAsync<ParleyException>(() =>
            host.Get<VisitorSignIn>().PreChatAsync(deployment, new PreChatProof(answered, null, null, null, null, null), None));
        var midChat = await Assert.ThrowsAsync<ParleyException>(() =>
            host.Get<MidChatLogin>().AuthenticateAsync(visitor, conversation.Id, new AuthenticateConversationRequest(Jwt: answered), None));

        Assert.Equal((OAuthErrors.InvalidToken, "nonce"), (asPageToken.Code, asPageToken.FailedCheck));
        Assert.Equal((OAuthErrors.InvalidToken, "nonce"), (midChat.Code, midChat.FailedCheck));
        // The brand's own nonces (a page token that is the brand's id_token) are none of Parley's business.
        await host.Get<VisitorSignIn>().PreChatAsync(deployment, new PreChatProof(Token(brand, "C-1815", nonce: "brand-nonce"), null, null, null, null, null), None);
    }

    [Fact]
    public async Task A_fresh_token_renews_an_ended_login_on_the_same_conversation()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = await UseCaseHost.StartAsync(clock);
        using var brand = RSA.Create(2048);
        await TestTokens.AttachSettingsAsync(host.Store, DemoOptions.ImplicitDeploymentId, brand);
        var deployment = (await host.Store.GetDeploymentAsync(DemoOptions.ImplicitDeploymentId, None))!;
        var conversations = host.Get<ConversationService>();
        var ada = await host.Get<VisitorSignIn>().PreChatAsync(deployment,
            new PreChatProof(Token(brand, "C-1815", lifetime: TimeSpan.FromMinutes(10), now: clock.GetUtcNow()), null, null, null, null, null), None);
        var conversation = await conversations.StartAsync(ada.Caller, null, None);
        clock.Advance(TimeSpan.FromMinutes(11)); // the login has ended; the socket that holds ada.Caller is still open

        Assert.Equal(ErrorCodes.AuthenticationExpired,
            (await Assert.ThrowsAsync<ParleyException>(() => conversations.SendAsync(ada.Caller, conversation.Id, "c-1", "still me", None))).Code);
        var renewed = await host.Get<MidChatLogin>().AuthenticateAsync(ada.Caller, conversation.Id,
            new AuthenticateConversationRequest(Jwt: Token(brand, "C-1815", now: clock.GetUtcNow())), None);

        Assert.Equal(conversation.Id, renewed.Conversation.Id);
        Assert.Equal(ada.Consumer.Id, renewed.ConsumerId);
        Assert.True(renewed.ExpiresAt > clock.GetUtcNow());
        await conversations.SendAsync(renewed.Caller, conversation.Id, "c-1", "still me", None);
        // Renewal is for the same customer: someone else's fresh token does not take the conversation over.
        clock.Advance(TimeSpan.FromMinutes(11));
        var grace = await Assert.ThrowsAsync<ParleyException>(() => host.Get<MidChatLogin>().AuthenticateAsync(renewed.Caller, conversation.Id,
            new AuthenticateConversationRequest(Jwt: Token(brand, "C-1906", now: clock.GetUtcNow())), None));
        Assert.Equal((OAuthErrors.InvalidGrant, "subject"), (grace.Code, grace.FailedCheck));
    }

    [Fact]
    public async Task After_a_mid_chat_login_the_customer_is_one_participant_and_their_read_marks_carry_over()
    {
        await using var host = await UseCaseHost.StartAsync();
        using var brand = RSA.Create(2048);
        await TestTokens.AttachSettingsAsync(host.Store, DemoOptions.ImplicitDeploymentId, brand);
        var conversations = host.Get<ConversationService>();
        var device = await host.NewVisitorAsync(DemoOptions.ImplicitDeploymentId);
        var conversation = await conversations.StartAsync(device, null, None);
        var read = conversation.LastSeq;
        Assert.True(read > 0); // the bot's greeting
        await conversations.MarkAsync(device, conversation.Id, read, read, None);

        var upgraded = await host.Get<MidChatLogin>().AuthenticateAsync(device, conversation.Id, new AuthenticateConversationRequest(Jwt: Token(brand, "C-1815")), None);
        var before = Assert.Single(await conversations.ReceiptsAsync(upgraded.Caller, conversation.Id, None), r => r.Role == ParticipantRole.Consumer);
        Assert.Equal((upgraded.ConsumerId, read), (before.ParticipantId, before.ReadSeq));

        var agent = await host.AgentAsync();
        await conversations.AcceptAsync(agent, conversation.Id, None);
        var reply = await conversations.SendAsync(agent, conversation.Id, "a-1", "How can I help?", None);
        await conversations.MarkAsync(upgraded.Caller, conversation.Id, reply.Message.Seq, reply.Message.Seq, None);

        var consumer = Assert.Single(await conversations.ReceiptsAsync(agent, conversation.Id, None), r => r.Role == ParticipantRole.Consumer);
        Assert.Equal((upgraded.ConsumerId, reply.Message.Seq), (consumer.ParticipantId, consumer.ReadSeq)); // the agent's reply shows Read
    }

    [Fact]
    public async Task Sign_in_refuses_two_proofs_at_once_and_a_deployment_without_settings()
    {
        await using var host = await UseCaseHost.StartAsync();
        using var brand = RSA.Create(2048);
        await TestTokens.AttachSettingsAsync(host.Store, DemoOptions.ImplicitDeploymentId, brand);
        var signIn = host.Get<VisitorSignIn>();
        var withSettings = (await host.Store.GetDeploymentAsync(DemoOptions.ImplicitDeploymentId, None))!;
        var without = (await host.Store.GetDeploymentAsync(DemoOptions.DeploymentId, None))!;

        var both = await Assert.ThrowsAsync<ParleyException>(() =>
            signIn.PreChatAsync(withSettings, new PreChatProof(Token(brand, "C-1"), "code", "state", null, null, null), None));
        var none = await Assert.ThrowsAsync<ParleyException>(() =>
            signIn.PreChatAsync(without, new PreChatProof(Token(brand, "C-1"), null, null, null, null, null), None));

        Assert.Equal((OAuthErrors.InvalidRequest, "request"), (both.Code, both.FailedCheck));
        Assert.Equal(ErrorCodes.InvalidRequest, none.Code);
    }

    /// <summary>A back-channel logout token of the brand: valid in every check a login token gets, but for ending a session.</summary>
    private static string LogoutToken(RSA key)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestTokens.Rs256(key, new Dictionary<string, object>
        {
            ["iss"] = TestTokens.Issuer, ["aud"] = "parley", ["sub"] = "C-1815", ["iat"] = now, ["exp"] = now + 120, ["jti"] = "j-1",
            ["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/backchannel-logout"] = new Dictionary<string, object>() },
        });
    }

    private static string Token(RSA key, string subject, string audience = "parley", TimeSpan? lifetime = null, string? nonce = null, DateTimeOffset? now = null)
    {
        var issued = (now ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = TestTokens.Issuer, ["aud"] = audience, ["sub"] = subject, ["iat"] = issued - 60,
            ["exp"] = issued + (long)(lifetime ?? TimeSpan.FromMinutes(10)).TotalSeconds,
            ["given_name"] = subject == "C-1815" ? "Ada" : "Grace",
        };
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        return TestTokens.Rs256(key, claims);
    }
}
