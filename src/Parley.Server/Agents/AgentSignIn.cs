using Microsoft.Extensions.Options;
using Parley.Audit;
using Parley.Security;
using Parley.Storage;

namespace Parley.Agents;

/// <summary>An agent's new sign-in: the bearer token (also the web app's cookie) and when it ends.</summary>
public sealed record SignedInAgent(Agent Agent, string Token, DateTimeOffset ExpiresAt);

/// <summary>
/// The use case "sign an agent in". An email that has failed
/// <see cref="LimitOptions.SignInFailuresBeforeLock"/> times in a row is locked, for
/// <see cref="LimitOptions.SignInLockout"/> doubling with each further failure (as ASP.NET Core
/// Identity's lockout does), counted in the database so every node sees it. An email no account
/// has is counted and locked the same way, and its password is checked just as long: neither the
/// answer nor its timing tells who has an account. Passwords are checked on
/// <see cref="PasswordChecks"/>' own threads. Each refused sign-in of an account, and each
/// successful one, is in its tenant's audit log.
/// </summary>
public sealed partial class AgentSignIn(
    IAgentStore agentStore,
    ISignInThrottleStore throttle,
    PasswordChecks passwords,
    AuditLog audit,
    TimeProvider time,
    IOptions<ParleyOptions> options,
    IOptions<LimitOptions> limits,
    ILogger<AgentSignIn> logger)
{
    public async Task<SignedInAgent> SignInAsync(string? email, string? password, string? from, CancellationToken cancellationToken)
    {
        var given = (email ?? "").Trim();
        var key = OpaqueToken.Hash("agent-sign-in:" + given.ToLowerInvariant());
        var now = time.GetUtcNow();
        if (await throttle.GetSignInLockAsync(key, cancellationToken) is { } lockedUntil && lockedUntil > now)
        {
            LogLocked(logger);
            throw Locked(lockedUntil - now);
        }

        // Counted before the password is checked, so that guesses sent at once cannot all slip in
        // before the first failure is counted; a success clears the count again.
        var attempts = await throttle.RecordSignInFailureAsync(key, now, LockFor, cancellationToken);
        if (attempts > limits.Value.SignInFailuresBeforeLock)
        {
            LogLocked(logger);
            throw Locked(LockFor(attempts - 1) ?? limits.Value.SignInLockout);
        }

        var agent = given.Length is > 0 and <= 254 && PlainText.IndexOfControl(given) < 0
            ? await agentStore.FindAgentByEmailAsync(given, cancellationToken)
            : null;
        if (!await passwords.VerifyAsync(agent, password))
        {
            LogRefused(logger, attempts);
            if (agent is not null)
            {
                await audit.RecordAsync(agent.TenantId, AuditKinds.AgentSignIn, AuditEvent.Refused, As(agent), reason: "password",
                    detail: $"{attempts} failed sign-in(s) in a row{From(from)}{(LockFor(attempts) is { } locked ? $"; locked for {locked.TotalMinutes:0} min" : "")}");
            }

            throw new ParleyException(ErrorCodes.Unauthorized, "The email or password is wrong.", StatusCodes.Status401Unauthorized);
        }

        await throttle.ClearSignInFailuresAsync(key, cancellationToken);
        var (token, hash) = OpaqueToken.Create(OpaqueToken.AgentPrefix);
        var expires = now + options.Value.AgentSessionLifetime;
        await agentStore.CreateAgentSessionAsync(new AgentSession(hash, agent!.Id, agent.TenantId, now, expires), cancellationToken);
        LogSignedIn(logger, agent.Id);
        await audit.RecordAsync(agent.TenantId, AuditKinds.AgentSignIn, AuditEvent.Succeeded, As(agent), detail: $"signed in{From(from)}");
        return new SignedInAgent(agent, token, expires);
    }

    /// <summary>No lock below the threshold; then the first lock, doubled for each failure past it, up to the longest.</summary>
    private TimeSpan? LockFor(int failures)
    {
        var limit = limits.Value;
        if (failures < limit.SignInFailuresBeforeLock)
        {
            return null;
        }

        var doublings = Math.Min(failures - limit.SignInFailuresBeforeLock, 20);
        return TimeSpan.FromTicks(Math.Min(limit.SignInLockoutMax.Ticks, limit.SignInLockout.Ticks * (1L << doublings)));
    }

    private static ParleyException Locked(TimeSpan remaining) =>
        new(ErrorCodes.RateLimited, "Too many failed sign-ins for this email: try again after the Retry-After delay.",
            StatusCodes.Status429TooManyRequests, retryable: true)
        {
            RetryAfter = remaining,
        };

    private static AgentCaller As(Agent agent) => new(agent.Id, agent.TenantId, agent.Role, "", DateTimeOffset.MinValue);

    private static string From(string? address) => address is null ? "" : $" from {address}";

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "An agent sign-in was refused ({Failures} in a row for that email)")]
    private static partial void LogRefused(ILogger logger, int failures);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Agent {AgentId} signed in")]
    private static partial void LogSignedIn(ILogger logger, Guid agentId);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "An agent sign-in was refused: the email is locked after failed sign-ins")]
    private static partial void LogLocked(ILogger logger);
}
