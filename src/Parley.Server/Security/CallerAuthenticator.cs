using Parley.Storage;

namespace Parley.Security;

/// <summary>Turns a visitor or agent bearer token into a caller, or null when it is unknown or expired.</summary>
public sealed class CallerAuthenticator(IConsumerStore consumerStore, IAgentStore agentStore, TimeProvider time)
{
    public async Task<ConsumerCaller?> AuthenticateConsumerAsync(string? token, CancellationToken cancellationToken)
    {
        if (!OpaqueToken.HasShape(token, OpaqueToken.VisitorPrefix))
        {
            return null;
        }

        var session = await consumerStore.GetConsumerSessionAsync(OpaqueToken.Hash(token!), cancellationToken);
        return session is null || session.ExpiresAt <= time.GetUtcNow()
            ? null
            : new ConsumerCaller(session.ConsumerId, session.TenantId, session.DeploymentId, session.TokenHash, session.ExpiresAt);
    }

    public async Task<AgentCaller?> AuthenticateAgentAsync(string? token, CancellationToken cancellationToken)
    {
        if (!OpaqueToken.HasShape(token, OpaqueToken.AgentPrefix))
        {
            return null;
        }

        var session = await agentStore.GetAgentSessionAsync(OpaqueToken.Hash(token!), cancellationToken);
        if (session is null || session.ExpiresAt <= time.GetUtcNow())
        {
            return null;
        }

        var agent = await agentStore.GetAgentAsync(session.AgentId, cancellationToken);
        return agent is null ? null : new AgentCaller(agent.Id, agent.TenantId, agent.Role, session.TokenHash);
    }
}
