using Parley.Conversations;
using Parley.Storage;

namespace Parley.Security;

/// <summary>
/// Ends sessions before their time, everywhere: the stored session goes first (so no new request
/// or connection can use it), then <see cref="SessionEnded"/> tells every connection that holds it,
/// on every node, to end. A connection not told (a notification lost between nodes) finds out at
/// its next frame once <c>Parley:Realtime:SessionRecheckInterval</c> has passed.
/// </summary>
public sealed class SessionRevocation(IAgentStore agentStore, IConsumerStore consumerStore, ILiveFanout fanout)
{
    /// <summary>An agent signs out (or is signed out): this sign-in ends; their other sign-ins stay.</summary>
    public async Task EndAgentSessionAsync(AgentCaller agent, string reason, CancellationToken cancellationToken)
    {
        await agentStore.DeleteAgentSessionAsync(agent.SessionHash, cancellationToken);
        fanout.Publish(new SessionEnded(agent.TenantId, agent.AgentId, agent.SessionHash, reason));
    }

    /// <summary>The customer logged out everywhere (at the brand's IdP): every device session ends; returns how many.</summary>
    public async Task<int> EndConsumerEverywhereAsync(Guid tenantId, Guid consumerId, string reason, CancellationToken cancellationToken)
    {
        var ended = await consumerStore.DeleteConsumerSessionsAsync(consumerId, cancellationToken);
        fanout.Publish(new SessionEnded(tenantId, consumerId, null, reason));
        return ended;
    }

    /// <summary>A device's session ends (its history cleared): that device forgets it; the visitor's other devices keep theirs.</summary>
    public async Task EndConsumerSessionAsync(ConsumerCaller consumer, string reason, CancellationToken cancellationToken)
    {
        await consumerStore.DeleteConsumerSessionAsync(consumer.SessionHash, cancellationToken);
        fanout.Publish(new SessionEnded(consumer.TenantId, consumer.ConsumerId, consumer.SessionHash, reason));
    }
}
