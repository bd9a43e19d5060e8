using Parley.Agents;
using Parley.Consumers;
using Parley.Conversations;
using Parley.Routing;
using Parley.Tenants;

namespace Parley.Storage.Tests;

/// <summary>Queues, priorities and assignment: the store's part of routing.</summary>
public abstract partial class StorageSuite
{
    private async Task<Conversation> WaitingAsync(Deployment deployment, string queue, int priority, DateTimeOffset queuedAt)
    {
        var consumer = Consumer.Anonymous(deployment.TenantId, T0);
        await Store.CreateConsumerAsync(consumer, Ct);
        var conversation = new Conversation(
            Guid.NewGuid(), deployment.TenantId, deployment.Id, consumer.Id, ConversationStatus.Open, queue,
            null, 0, EngagementAttributes.Empty, queuedAt, queuedAt, null, Priority: priority, RoutingRule: "r", QueuedAt: queuedAt);
        Assert.True(await Store.CreateConversationAsync(conversation, Ct));
        return conversation;
    }

    private async Task<Agent> AgentAsync(Guid tenantId, int capacity, string[]? queues = null)
    {
        var agent = new Agent(Guid.NewGuid(), tenantId, $"{Guid.NewGuid():N}@acme.example", "Ana", "hash", AgentRole.Agent, capacity, T0, queues);
        await Store.CreateAgentAsync(agent, Ct);
        return agent;
    }

    [Fact]
    public async Task The_next_conversation_is_the_highest_priority_then_the_longest_waiting_in_the_agents_queues()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var oldAnonymous = await WaitingAsync(deployment, "anonymous", 0, T0);
        var newerAnonymous = await WaitingAsync(deployment, "anonymous", 0, T0.AddMinutes(1));
        var vip = await WaitingAsync(deployment, "vip", 100, T0.AddMinutes(5));
        var sales = await WaitingAsync(deployment, "sales", 500, T0.AddMinutes(2));
        var (_, otherDeployment) = await NewTenantAsync("Globex");
        await WaitingAsync(otherDeployment, "vip", 1000, T0.AddMinutes(-10));
        var agent = await AgentAsync(tenant.Id, 10, ["anonymous", "vip"]);

        Assert.Equal([vip.Id, oldAnonymous.Id, newerAnonymous.Id],
            (await Store.ListWaitingConversationsAsync(tenant.Id, ["anonymous", "vip"], 10, Ct)).Select(c => c.Id));
        Assert.Equal([sales.Id, vip.Id, oldAnonymous.Id, newerAnonymous.Id],
            (await Store.ListWaitingConversationsAsync(tenant.Id, null, 10, Ct)).Select(c => c.Id));

        var taken = new List<Guid?>();
        for (var i = 0; i < 4; i++)
        {
            taken.Add((await Store.TakeNextConversationAsync(agent.Id, T0.AddMinutes(10), Ct)).ConversationId);
        }

        Assert.Equal([vip.Id, oldAnonymous.Id, newerAnonymous.Id, null], taken);
        Assert.Equal(AssignOutcome.NoneWaiting, (await Store.TakeNextConversationAsync(agent.Id, T0, Ct)).Outcome);
        Assert.Equal(new Dictionary<Guid, int> { [agent.Id] = 3 }, await Store.CountAssignedConversationsAsync(tenant.Id, Ct));
        Assert.Equal([sales.Id], (await Store.ListWaitingConversationsAsync(tenant.Id, null, 10, Ct)).Select(c => c.Id));
    }

    [Fact]
    public async Task An_agent_serving_no_queue_gets_nothing_and_an_unknown_agent_is_refused()
    {
        var (tenant, deployment) = await NewTenantAsync();
        await WaitingAsync(deployment, "default", 0, T0);
        var idle = await AgentAsync(tenant.Id, 5, []);

        Assert.Equal(AssignOutcome.NoneWaiting, (await Store.TakeNextConversationAsync(idle.Id, T0, Ct)).Outcome);
        Assert.Empty(await Store.ListWaitingConversationsAsync(tenant.Id, [], 10, Ct));
        Assert.Equal(AssignOutcome.AtCapacity, (await Store.TakeNextConversationAsync(Guid.NewGuid(), T0, Ct)).Outcome);
    }

    [Fact]
    public async Task An_agent_of_another_tenant_cannot_be_assigned_a_conversation()
    {
        var (_, deployment) = await NewTenantAsync();
        var conversation = await WaitingAsync(deployment, "default", 0, T0);
        var (globex, _) = await NewTenantAsync("Globex");
        var stranger = await AgentAsync(globex.Id, 5);

        Assert.Equal(AssignOutcome.Taken, await Store.TryAssignConversationAsync(conversation.Id, stranger.Id, T0, Ct));
        Assert.Equal(AssignOutcome.NoneWaiting, (await Store.TakeNextConversationAsync(stranger.Id, T0, Ct)).Outcome);
        Assert.Null((await Store.GetConversationAsync(conversation.Id, Ct))!.AssignedAgentId);
    }

    [Fact]
    public async Task Concurrent_accepts_never_take_an_agent_over_capacity()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var conversations = new List<Conversation>();
        for (var i = 0; i < 10; i++)
        {
            conversations.Add(await WaitingAsync(deployment, "default", 0, T0.AddSeconds(i)));
        }

        var agent = await AgentAsync(tenant.Id, 3);

        var outcomes = await Task.WhenAll(conversations.Select(c => Task.Run(() => Store.TryAssignConversationAsync(c.Id, agent.Id, T0, Ct))));

        Assert.Equal(3, outcomes.Count(o => o == AssignOutcome.Assigned));
        Assert.Equal(7, outcomes.Count(o => o == AssignOutcome.AtCapacity));
        Assert.Equal(3, (await Store.CountAssignedConversationsAsync(tenant.Id, Ct))[agent.Id]);
    }

    [Fact]
    public async Task Concurrent_takes_by_several_agents_assign_each_conversation_once_within_capacity()
    {
        var (tenant, deployment) = await NewTenantAsync();
        for (var i = 0; i < 10; i++)
        {
            await WaitingAsync(deployment, "default", i % 3, T0.AddSeconds(i));
        }

        var agents = new List<Agent>();
        for (var i = 0; i < 4; i++)
        {
            agents.Add(await AgentAsync(tenant.Id, 3));
        }

        // 24 attempts for 12 places and 10 conversations.
        var results = await Task.WhenAll(Enumerable.Range(0, 24)
            .Select(i => Task.Run(() => Store.TakeNextConversationAsync(agents[i % 4].Id, T0.AddMinutes(1), Ct))));

        var assigned = results.Where(r => r.Outcome == AssignOutcome.Assigned).Select(r => r.ConversationId!.Value).ToList();
        Assert.Equal(10, assigned.Count);
        Assert.Equal(10, assigned.Distinct().Count());
        var loads = await Store.CountAssignedConversationsAsync(tenant.Id, Ct);
        Assert.Equal(10, loads.Values.Sum());
        Assert.All(loads.Values, load => Assert.InRange(load, 1, 3));
        Assert.Empty(await Store.ListWaitingConversationsAsync(tenant.Id, null, 10, Ct));
    }

    [Fact]
    public async Task Routing_again_keeps_the_wait_and_a_conversation_handed_over_by_the_bot_starts_waiting_then()
    {
        var (_, deployment) = await NewTenantAsync();
        var waiting = await WaitingAsync(deployment, "anonymous", 0, T0);
        var until = T0.AddHours(1);

        Assert.True(await Store.RouteConversationAsync(waiting.Id, "vip", 100, "VIP", until, T0.AddMinutes(3), Ct));
        var routed = (await Store.GetConversationAsync(waiting.Id, Ct))!;
        Assert.Equal(("vip", 100, "VIP", until, T0), (routed.Queue, routed.Priority, routed.RoutingRule, routed.RoutedUntil, routed.QueuedAt));

        // With the bot: in no queue, so waiting for nobody yet.
        var visitor = Consumer.Anonymous(deployment.TenantId, T0);
        await Store.CreateConsumerAsync(visitor, Ct);
        var withBot = new Conversation(
            Guid.NewGuid(), deployment.TenantId, deployment.Id, visitor.Id, ConversationStatus.Open, null,
            null, 0, EngagementAttributes.Empty, T0, T0, null);
        Assert.True(await Store.CreateConversationAsync(withBot, Ct));
        Assert.DoesNotContain(withBot.Id, (await Store.ListWaitingConversationsAsync(deployment.TenantId, null, 10, Ct)).Select(c => c.Id));
        Assert.True(await Store.RouteConversationAsync(withBot.Id, "default", 0, null, null, T0.AddMinutes(4), Ct));
        Assert.Equal(T0.AddMinutes(4), (await Store.GetConversationAsync(withBot.Id, Ct))!.QueuedAt);
    }

    [Fact]
    public async Task Assigned_or_closed_conversations_are_not_routed_again()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var assigned = await WaitingAsync(deployment, "default", 0, T0);
        var agent = await AgentAsync(tenant.Id, 5);
        await Store.TryAssignConversationAsync(assigned.Id, agent.Id, T0, Ct);
        var closed = await WaitingAsync(deployment, "default", 0, T0);
        await Store.SetConversationStatusAsync(closed.Id, ConversationStatus.Closed, T0, Ct);

        Assert.False(await Store.RouteConversationAsync(assigned.Id, "vip", 1, null, null, T0, Ct));
        Assert.False(await Store.RouteConversationAsync(closed.Id, "vip", 1, null, null, T0, Ct));
        Assert.Equal("default", (await Store.GetConversationAsync(assigned.Id, Ct))!.Queue);
    }

    [Fact]
    public async Task Waiting_conversations_whose_login_expired_are_listed_for_routing_again()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var expired = await WaitingAsync(deployment, "vip", 100, T0);
        await Store.RouteConversationAsync(expired.Id, "vip", 100, "VIP", T0.AddMinutes(30), T0, Ct);
        var current = await WaitingAsync(deployment, "vip", 100, T0);
        await Store.RouteConversationAsync(current.Id, "vip", 100, "VIP", T0.AddHours(2), T0, Ct);
        var taken = await WaitingAsync(deployment, "vip", 100, T0);
        await Store.RouteConversationAsync(taken.Id, "vip", 100, "VIP", T0.AddMinutes(30), T0, Ct);
        await Store.TryAssignConversationAsync(taken.Id, (await AgentAsync(tenant.Id, 5)).Id, T0, Ct);

        Assert.Equal([expired.Id], (await Store.ListConversationsToRerouteAsync(T0.AddHours(1), 10, Ct)).Select(c => c.Id));
    }

    [Fact]
    public async Task An_agents_conversations_go_back_to_their_queues_in_their_old_place()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var agent = await AgentAsync(tenant.Id, 5);
        var first = await WaitingAsync(deployment, "default", 0, T0);
        var second = await WaitingAsync(deployment, "vip", 100, T0.AddMinutes(1));
        await Store.TryAssignConversationAsync(first.Id, agent.Id, T0, Ct);
        await Store.TryAssignConversationAsync(second.Id, agent.Id, T0, Ct);
        await Store.SetConversationStatusAsync(second.Id, ConversationStatus.Closed, T0.AddMinutes(2), Ct);
        var later = await WaitingAsync(deployment, "default", 0, T0.AddMinutes(3));

        Assert.Equal([first.Id], await Store.ReturnAgentConversationsAsync(agent.Id, T0.AddMinutes(5), Ct));
        Assert.Equal([first.Id, later.Id], (await Store.ListWaitingConversationsAsync(tenant.Id, null, 10, Ct)).Select(c => c.Id));
        Assert.Empty(await Store.ReturnAgentConversationsAsync(agent.Id, T0.AddMinutes(6), Ct));
    }

    [Fact]
    public async Task Queue_statistics_count_the_waiting_the_oldest_wait_and_the_time_to_first_response()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var agent = await AgentAsync(tenant.Id, 5);
        await WaitingAsync(deployment, "vip", 100, T0.AddMinutes(2));
        await WaitingAsync(deployment, "vip", 100, T0.AddMinutes(1));
        var answered = await WaitingAsync(deployment, "anonymous", 0, T0);
        var answeredLater = await WaitingAsync(deployment, "anonymous", 0, T0);
        foreach (var (conversation, after) in new[] { (answered, 30), (answeredLater, 90) })
        {
            await Store.TryAssignConversationAsync(conversation.Id, agent.Id, T0, Ct);
            await Store.AppendMessagesAsync(
                [new NewMessage(conversation.Id, MessageKind.Text, ParticipantRole.Agent, agent.Id, "a1", "Hello", T0.AddSeconds(after))], Ct);

            // Only the first answer counts.
            await Store.AppendMessagesAsync(
                [new NewMessage(conversation.Id, MessageKind.Text, ParticipantRole.Agent, agent.Id, "a2", "More", T0.AddSeconds(after + 600))], Ct);
        }

        var (globex, globexWeb) = await NewTenantAsync("Globex");
        await WaitingAsync(globexWeb, "vip", 0, T0);

        var statistics = await Store.GetQueueStatisticsAsync(tenant.Id, T0.AddHours(-1), Ct);

        Assert.Equal(["anonymous", "vip"], statistics.Select(s => s.Queue));
        var anonymous = statistics[0];
        Assert.Equal((0, (DateTimeOffset?)null, 2), (anonymous.Waiting, anonymous.OldestQueuedAt, anonymous.Responded));
        Assert.Equal(60_000, anonymous.AverageFirstResponseMilliseconds!.Value, 1);
        Assert.Equal(T0.AddSeconds(30), (await Store.GetConversationAsync(answered.Id, Ct))!.FirstResponseAt);
        var vip = statistics[1];
        Assert.Equal((2, T0.AddMinutes(1), 0, (double?)null), (vip.Waiting, vip.OldestQueuedAt, vip.Responded, vip.AverageFirstResponseMilliseconds));
        Assert.DoesNotContain(await Store.GetQueueStatisticsAsync(tenant.Id, T0.AddHours(1), Ct), s => s.Responded > 0);
        Assert.Contains(await Store.GetQueueStatisticsAsync(null, T0, Ct), s => s.TenantId == globex.Id);
    }

    [Fact]
    public async Task Routing_configurations_and_agent_queues_round_trip()
    {
        var (tenant, _) = await NewTenantAsync();
        Assert.Null(await Store.GetRoutingConfigurationAsync(tenant.Id, Ct));
        var configuration = new RoutingConfiguration
        {
            Queues = [new("vip", "VIP"), new("anonymous")],
            DefaultQueue = "anonymous",
            Rules = [new RoutingRule("VIP", "authenticated and context.vip == \"true\"", "vip", 100)],
            AutoAssign = true,
            DisconnectGraceSeconds = 30,
        };
        await Store.SaveRoutingConfigurationAsync(tenant.Id, configuration, T0, Ct);
        await Store.SaveRoutingConfigurationAsync(tenant.Id, configuration with { DisconnectGraceSeconds = 45 }, T0, Ct);

        var stored = (await Store.GetRoutingConfigurationAsync(tenant.Id, Ct))!;
        Assert.Equal(configuration.Queues, stored.Queues);
        Assert.Equal(configuration.Rules, stored.Rules);
        Assert.Equal(("anonymous", true, 45), (stored.DefaultQueue, stored.AutoAssign, stored.DisconnectGraceSeconds));

        var agent = await AgentAsync(tenant.Id, 3);
        Assert.Null((await Store.GetAgentAsync(agent.Id, Ct))!.Queues);
        Assert.True(await Store.SetAgentRoutingAsync(agent.Id, ["vip"], 7, Ct));
        var updated = Assert.Single(await Store.ListAgentsAsync(tenant.Id, Ct));
        Assert.Equal(7, updated.Capacity);
        Assert.Equal(["vip"], updated.Queues!);
        Assert.False(await Store.SetAgentRoutingAsync(Guid.NewGuid(), null, 1, Ct));
    }

    [Fact]
    public async Task Presence_counts_connections_on_live_nodes_only_and_tells_since_when_an_agent_is_away()
    {
        var (tenant, deployment) = await NewTenantAsync();
        var (nodeA, nodeB) = (Guid.NewGuid(), Guid.NewGuid());
        var ana = await AgentAsync(tenant.Id, 5);
        var bob = await AgentAsync(tenant.Id, 5);
        var cy = await AgentAsync(tenant.Id, 5);
        foreach (var agent in new[] { ana, bob, cy })
        {
            await Store.TryAssignConversationAsync((await WaitingAsync(deployment, "default", 0, T0)).Id, agent.Id, T0, Ct);
        }

        // Ana: connected on A, and on B where she closed her console. Bob: closed on A at T0+1. Cy: on B, which then died.
        await Store.SetAgentConnectionsAsync(nodeA, ana.Id, tenant.Id, 1, T0, Ct);
        await Store.SetAgentConnectionsAsync(nodeB, ana.Id, tenant.Id, 0, T0, Ct);
        await Store.SetAgentConnectionsAsync(nodeA, bob.Id, tenant.Id, 2, T0, Ct);
        await Store.SetAgentConnectionsAsync(nodeA, bob.Id, tenant.Id, 0, T0.AddMinutes(1), Ct);
        await Store.SetAgentConnectionsAsync(nodeB, cy.Id, tenant.Id, 1, T0, Ct);
        await Store.RecordNodeHeartbeatAsync(nodeA, T0.AddMinutes(5), Ct);

        var aliveSince = T0.AddMinutes(4);
        Assert.Equal([ana.Id], await Store.ListConnectedAgentsAsync(tenant.Id, aliveSince, Ct));
        var away = (await Store.ListAwayAgentsAsync(aliveSince, Ct)).OrderBy(a => a.Since).ToList();
        Assert.Equal([new AgentAway(cy.Id, tenant.Id, T0), new AgentAway(bob.Id, tenant.Id, T0.AddMinutes(1))], away);

        // Without open conversations nobody is "away"; forgotten nodes take their rows along.
        await Store.ReturnAgentConversationsAsync(bob.Id, T0, Ct);
        Assert.Equal([cy.Id], (await Store.ListAwayAgentsAsync(aliveSince, Ct)).Select(a => a.AgentId));
        Assert.Equal(1, await Store.PurgeNodesAsync(T0.AddMinutes(1), Ct));
        Assert.Empty(await Store.ListAwayAgentsAsync(aliveSince, Ct));
        Assert.Equal([ana.Id], await Store.ListConnectedAgentsAsync(tenant.Id, aliveSince, Ct));
    }
}
