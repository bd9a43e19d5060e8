namespace Parley.Agents;

public enum AgentRole
{
    Agent,
    Admin,
}

/// <summary>A brand employee with a local account. <see cref="PasswordHash"/> is a PBKDF2 hash.</summary>
public sealed record Agent(
    Guid Id,
    Guid TenantId,
    string Email,
    string DisplayName,
    string PasswordHash,
    AgentRole Role,
    int Capacity,
    DateTimeOffset CreatedAt);

/// <summary>A signed-in agent (web cookie or API bearer token); only the token's hash is stored.</summary>
public sealed record AgentSession(
    string TokenHash,
    Guid AgentId,
    Guid TenantId,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt);
