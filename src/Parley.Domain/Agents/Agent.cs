namespace Parley.Agents;

public enum AgentRole
{
    Agent,
    Admin,
}

/// <summary>
/// A brand employee with a local account. <see cref="PasswordHash"/> is a PBKDF2 hash. The agent
/// holds at most <see cref="Capacity"/> open conversations at once and serves the queues in
/// <see cref="Queues"/> (null: every queue of the tenant).
/// </summary>
public sealed record Agent(
    Guid Id,
    Guid TenantId,
    string Email,
    string DisplayName,
    string PasswordHash,
    AgentRole Role,
    int Capacity,
    DateTimeOffset CreatedAt,
    IReadOnlyList<string>? Queues = null)
{
    public const int MaxCapacity = 100;

    public bool Serves(string? queue) => Queues is null || (queue is not null && Queues.Contains(queue, StringComparer.Ordinal));
}

/// <summary>A signed-in agent (web cookie or API bearer token); only the token's hash is stored.</summary>
public sealed record AgentSession(
    string TokenHash,
    Guid AgentId,
    Guid TenantId,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt);
