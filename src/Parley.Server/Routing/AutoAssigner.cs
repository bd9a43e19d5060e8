using System.Collections.Concurrent;
using Parley.Conversations;
using Parley.Storage;

namespace Parley.Routing;

/// <summary>
/// Automatic assignment, for tenants that turn it on: each waiting conversation, highest priority
/// and longest wait first, goes to the connected agent of its queue with the fewest open
/// conversations and room under their capacity. Also returns the conversations of an agent who
/// stays disconnected longer than the tenant's grace period to their queues (for every tenant).
/// </summary>
/// <remarks>
/// The store's atomic assignment is what guarantees no double assignment and no agent over
/// capacity; the per-tenant gate here only keeps this node from racing itself.
/// </remarks>
public sealed partial class AutoAssigner(
    IParleyStore store,
    RoutingConfigurations configurations,
    AgentPresence presence,
    ILiveFanout fanout,
    TimeProvider time,
    ILogger<AutoAssigner> logger) : IDisposable
{
    private const int BatchSize = 200;
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _gates = new();
    private readonly ConcurrentDictionary<Guid, ITimer> _graceTimers = new();

    /// <summary>Assigns what can be assigned now; does nothing unless the tenant assigns automatically.</summary>
    public async Task AssignWaitingAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        if (!(await configurations.GetAsync(tenantId, cancellationToken)).Configuration.AutoAssign
            || presence.ConnectedAgents(tenantId).Count == 0)
        {
            return;
        }

        var gate = _gates.GetOrAdd(tenantId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var agents = (await store.ListAgentsAsync(tenantId, cancellationToken)).Where(a => presence.IsConnected(a.Id)).ToList();
            var loads = (await store.CountAssignedConversationsAsync(tenantId, cancellationToken)).ToDictionary();
            foreach (var conversation in await store.ListWaitingConversationsAsync(tenantId, null, BatchSize, cancellationToken))
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

                switch (await store.TryAssignConversationAsync(conversation.Id, agent.Id, time.GetUtcNow(), cancellationToken))
                {
                    case AssignOutcome.Assigned:
                        loads[agent.Id] = loads.GetValueOrDefault(agent.Id) + 1;
                        LogAssigned(logger, conversation.Id, agent.Id);
                        await PublishAsync(conversation.Id, cancellationToken);
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

    /// <summary>An agent's console connected: their grace period (if running) ends, and they can get work.</summary>
    public void AgentConnected(Guid tenantId, Guid agentId)
    {
        if (_graceTimers.TryRemove(agentId, out var timer))
        {
            timer.Dispose();
        }

        if (presence.Connected(tenantId, agentId))
        {
            _ = RunAsync(() => AssignWaitingAsync(tenantId, CancellationToken.None));
        }
    }

    /// <summary>An agent's console went away: after the grace period, their open conversations go back to their queues.</summary>
    public void AgentDisconnected(Guid tenantId, Guid agentId)
    {
        if (presence.Disconnected(agentId))
        {
            _ = RunAsync(() => StartGracePeriodAsync(tenantId, agentId));
        }
    }

    private async Task StartGracePeriodAsync(Guid tenantId, Guid agentId)
    {
        var grace = TimeSpan.FromSeconds((await configurations.GetAsync(tenantId, CancellationToken.None)).Configuration.DisconnectGraceSeconds);
        var timer = time.CreateTimer(_ => _ = RunAsync(() => ReturnConversationsAsync(tenantId, agentId)), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _graceTimers.AddOrUpdate(agentId, timer, (_, previous) =>
        {
            previous.Dispose();
            return timer;
        });
        timer.Change(grace, Timeout.InfiniteTimeSpan);
    }

    private async Task ReturnConversationsAsync(Guid tenantId, Guid agentId)
    {
        if (_graceTimers.TryRemove(agentId, out var timer))
        {
            timer.Dispose();
        }

        if (presence.IsConnected(agentId))
        {
            return;
        }

        var returned = await store.ReturnAgentConversationsAsync(agentId, time.GetUtcNow(), CancellationToken.None);
        if (returned.Count > 0)
        {
            LogReturned(logger, agentId, returned.Count);
            foreach (var conversationId in returned)
            {
                await PublishAsync(conversationId, CancellationToken.None);
            }

            await AssignWaitingAsync(tenantId, CancellationToken.None);
        }
    }

    private async Task PublishAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        if (await store.GetConversationAsync(conversationId, cancellationToken) is { } changed)
        {
            fanout.Publish(new ConversationChanged(changed));
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
        foreach (var timer in _graceTimers.Values)
        {
            timer.Dispose();
        }

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
