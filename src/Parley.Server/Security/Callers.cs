using Parley.Agents;
using Parley.Conversations;

namespace Parley.Security;

/// <summary>Who is calling: a consumer's device or a signed-in agent.</summary>
public abstract record Caller(Guid ParticipantId, Guid TenantId, ParticipantRole Role)
{
    /// <summary>The stored hash of the session this caller acts in (a device's, or an agent's sign-in).</summary>
    public string Session => this switch
    {
        ConsumerCaller consumer => consumer.SessionHash,
        AgentCaller agent => agent.SessionHash,
        _ => "",
    };

    /// <summary>When that session ends.</summary>
    public DateTimeOffset Until => this switch
    {
        ConsumerCaller consumer => consumer.SessionExpiresAt,
        AgentCaller agent => agent.SessionExpiresAt,
        _ => DateTimeOffset.MinValue,
    };
}

/// <summary>
/// A device holding a visitor token for one deployment. <see cref="SessionExpiresAt"/> is when the
/// device's session ends: for an authenticated visitor, when the authentication does.
/// </summary>
public sealed record ConsumerCaller(Guid ConsumerId, Guid TenantId, Guid DeploymentId, string SessionHash, DateTimeOffset SessionExpiresAt)
    : Caller(ConsumerId, TenantId, ParticipantRole.Consumer);

/// <summary>A signed-in agent; <see cref="SessionExpiresAt"/> is when the sign-in ends.</summary>
public sealed record AgentCaller(Guid AgentId, Guid TenantId, AgentRole AgentRole, string SessionHash, DateTimeOffset SessionExpiresAt)
    : Caller(AgentId, TenantId, ParticipantRole.Agent);
