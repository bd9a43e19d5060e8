using System.Collections.Concurrent;
using Parley.Storage;

namespace Parley.Routing;

/// <summary>
/// Automatic assignment, for tenants that turn it on: each waiting conversation, highest priority
/// and longest wait first, goes to the connected agent of its queue with the fewest open
/// conversations and room under their capacity. Also returns the conversations of an agent who
/// stays away (no console on any node) longer than the tenant's grace period to their queues.
/// </summary>
/// <remarks>
/// The store's atomic assignment is what guarantees no double assignment and no agent over
/// capacity; the per-tenant gate here only keeps this node from racing itself.
/// </remarks>
public sealed partial class AutoAssigner(
    IAgentStore agentStore, IRoutingStore routingStore, IPresenceStore presenceStore,
    RoutingConfigurations configurations,
    AgentPresence presence,
    Messaging.ConversationLifecycle lifecycle,
    TimeProvider time,
    ILogger<AutoAssigner> logger) : IDisposable
{
    private const int BatchSize = 200;
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _gates = new();

    /// <summary>Assigns what can be assigned now; does nothing unless the tenant assigns automatically.</summary>
    public async Task AssignWaitingAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        if (!(await configurations.GetAsync(tenantId, cancellationToken)).Configuration.AutoAssign)
        {
            return;
        }

        var gate = _gates.GetOrAdd(tenantId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var connected = (await presence.ConnectedAgentsAsync(tenantId, cancellationToken)).ToHashSet();
            if (connected.Count == 0)
            {
                return;
            }

            var agents = (await agentStore.ListAgentsAsync(tenantId, cancellationToken)).Where(a => connected.Contains(a.Id)).ToList();
            var loads = (await routingStore.CountAssignedConversationsAsync(tenantId, cancellationToken)).ToDictionary();
            foreach (var conversation in await routingStore.ListWaitingConversationsAsync(tenantId, null, BatchSize, cancellationToken))
            {
                var agent = agents
                    .Where(a => a.Serves(conversation.Queue) && loads.GetValueOrDefault(a.Id) < a.Capacity)
                    .OrderBy(a => loads.GetValueOrDefault(a.Id))
                    .ThenBy(a => a.Id)
                    .FirstOrDefault();
                if (agent is null)
                {
                    continue;
                }

                switch (await routingStore.TryAssignConversationAsync(conversation.Id, agent.Id, time.GetUtcNow(), cancellationToken))
                {
                    case AssignOutcome.Assigned:
                        loads[agent.Id] = loads.GetValueOrDefault(agent.Id) + 1;
                        LogAssigned(logger, conversation.Id, agent.Id);
                        await lifecycle.ChangedAsync(conversation.Id, null, cancellationToken);
                        break;
                    case AssignOutcome.AtCapacity:
                        // Filled meanwhile (an accept on another node): no more for this agent this round.
                        loads[agent.Id] = agent.Capacity;
                        break;
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary><see cref="AssignWaitingAsync"/> for callers whose own work is done: a failure is logged and left to the sweep.</summary>
    public Task TryAssignWaitingAsync(Guid tenantId) => RunAsync(() => AssignWaitingAsync(tenantId, CancellationToken.None));

    /// <summary>An agent's console connected: they can get work.</summary>
    public Task AgentConnectedAsync(Guid tenantId, Guid agentId) =>
        RunAsync(async () =>
        {
            if (await presence.ConnectedAsync(tenantId, agentId))
            {
                await AssignWaitingAsync(tenantId, CancellationToken.None);
            }
        });

    /// <summary>An agent's console went away; if they stay away past the grace period, the sweep returns their conversations.</summary>
    public Task AgentDisconnectedAsync(Guid tenantId, Guid agentId) => RunAsync(() => presence.DisconnectedAsync(tenantId, agentId));

    /// <summary>
    /// Returns to their queues (in their old place) the open conversations of agents who have had no
    /// console on any node for longer than their tenant's grace period; then assigns what it can.
    /// </summary>
    public async Task ReturnFromAwayAgentsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var away in await presenceStore.ListAwayAgentsAsync(presence.AliveSince, cancellationToken))
        {
            var grace = TimeSpan.FromSeconds((await configurations.GetAsync(away.TenantId, cancellationToken)).Configuration.DisconnectGraceSeconds);
            if (away.Since > now - grace)
            {
                continue;
            }

            var returned = await routingStore.ReturnAgentConversationsAsync(away.AgentId, now, cancellationToken);
            if (returned.Count > 0)
            {
                LogReturned(logger, away.AgentId, returned.Count);
                foreach (var conversationId in returned)
                {
                    await lifecycle.ChangedAsync(conversationId, null, cancellationToken);
                }

                await AssignWaitingAsync(away.TenantId, cancellationToken);
            }
        }
    }

    /// <summary>Runs background routing work; a failure is logged and left to the next trigger or sweep.</summary>
    private async Task RunAsync(Func<Task> work)
    {
        try
        {
            await work();
        }
        catch (Exception exception) when (exception is StorageUnavailableException or RoutingRulesException or ObjectDisposedException)
        {
            LogFailed(logger, exception);
        }
    }

    public void Dispose()
    {
        foreach (var gate in _gates.Values)
        {
            gate.Dispose();
        }
    }

    [LoggerMessage(EventId = 8003, Level = LogLevel.Information, Message = "Conversation {ConversationId} assigned to agent {AgentId}")]
    private static partial void LogAssigned(ILogger logger, Guid conversationId, Guid agentId);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Information, Message = "Agent {AgentId} stayed away past the grace period: {Count} conversations returned to their queues")]
    private static partial void LogReturned(ILogger logger, Guid agentId, int count);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Warning, Message = "Automatic assignment failed; the next change or sweep retries")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
