using Parley.Storage;

namespace Parley.Security;

/// <summary>
/// What a visitor token is: a live session's caller, an ended session (with the caller it was, so
/// that a fresh login can renew it), or nothing Parley knows.
/// </summary>
public readonly record struct ConsumerCheck(ConsumerCaller? Caller, ConsumerCaller? EndedCaller = null, bool Renewable = false)
{
    public bool Ended => EndedCaller is not null;
}

/// <summary>Turns a visitor or agent bearer token into a caller, or null when it is unknown or expired.</summary>
public sealed class CallerAuthenticator(
    IConsumerStore consumerStore, IAgentStore agentStore, TimeProvider time, Microsoft.Extensions.Options.IOptions<ParleyOptions> options)
{
    public async Task<ConsumerCaller?> AuthenticateConsumerAsync(string? token, CancellationToken cancellationToken) =>
        (await CheckConsumerAsync(token, cancellationToken)).Caller;

    /// <summary>
    /// The visitor token's caller; or none, with <see cref="ConsumerCheck.Ended"/> when the token
    /// is a device session that has ended (its login expired), as opposed to one never issued or unlinked.
    /// </summary>
    public async Task<ConsumerCheck> CheckConsumerAsync(string? token, CancellationToken cancellationToken)
    {
        if (!OpaqueToken.HasShape(token, OpaqueToken.VisitorPrefix))
        {
            return default;
        }

        var session = await consumerStore.GetConsumerSessionAsync(OpaqueToken.Hash(token!), cancellationToken);
        if (session is null)
        {
            return default;
        }

        var caller = new ConsumerCaller(session.ConsumerId, session.TenantId, session.DeploymentId, session.TokenHash, session.ExpiresAt);
        var now = time.GetUtcNow();
        return session.ExpiresAt > now ? new ConsumerCheck(caller)
            : new ConsumerCheck(null, EndedCaller: caller, Renewable: session.ExpiresAt + options.Value.LoginRenewalWindow > now);
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
        return agent is null ? null : new AgentCaller(agent.Id, agent.TenantId, agent.Role, session.TokenHash, session.ExpiresAt);
    }

    /// <summary>
    /// Whether the session a connection authenticated with is still stored: the backstop for an
    /// end the connection was not told of (a notification lost between nodes). Expiry is each
    /// connection's own timer's business: an expired visitor may log in again on the same socket.
    /// </summary>
    public async Task<bool> StillStoredAsync(Caller caller, CancellationToken cancellationToken) => caller switch
    {
        ConsumerCaller consumer => await consumerStore.GetConsumerSessionAsync(consumer.SessionHash, cancellationToken) is { } session
            && session.ConsumerId == consumer.ConsumerId,
        AgentCaller agent => await agentStore.GetAgentSessionAsync(agent.SessionHash, cancellationToken) is { } session
            && session.AgentId == agent.AgentId,
        _ => false,
    };
}
