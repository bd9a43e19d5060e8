using Parley.Agents;

namespace Parley.Routing;

/// <summary>An agent: <c>Queues</c> are the queues they serve (null: every queue), <c>Capacity</c> the most open conversations they hold.</summary>
public sealed record AgentView(Guid Id, Guid TenantId, string Email, string DisplayName, string Role, int Capacity, IReadOnlyList<string>? Queues);

public static class AgentViews
{
    public static AgentView ToView(this Agent a) =>
        new(a.Id, a.TenantId, a.Email, a.DisplayName, a.Role.ToString().ToLowerInvariant(), a.Capacity, a.Queues);
}
