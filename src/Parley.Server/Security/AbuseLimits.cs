using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Parley.Security;

/// <summary>
/// Limits that keep one abusive client from hurting the others (<c>Parley:Limits</c>, docs/security.md).
/// Going over a limit is an HTTP 429 with <c>Retry-After</c> and code <c>rate_limited</c>, or an
/// <c>error</c> frame on the WebSocket; never a crash.
/// </summary>
public sealed class LimitOptions
{
    public const string Section = "Parley:Limits";

    /// <summary>Session starts (<c>POST /api/v1/sessions</c> and <c>/sessions/login</c>) per client IP per minute.</summary>
    public int SessionsPerIpPerMinute { get; set; } = 60;

    /// <summary>Session starts per deployment per minute, whatever the IP (a botnet against one brand).</summary>
    public int SessionsPerDeploymentPerMinute { get; set; } = 6000;

    /// <summary>Agent sign-in attempts per client IP per minute, whatever the account.</summary>
    public int SignInsPerIpPerMinute { get; set; } = 10;

    /// <summary>Failed sign-ins in a row for one email (an account or not) before it is locked.</summary>
    public int SignInFailuresBeforeLock { get; set; } = 5;

    /// <summary>The first lock; each further failure doubles it, up to <see cref="SignInLockoutMax"/>.</summary>
    public TimeSpan SignInLockout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest lock.</summary>
    public TimeSpan SignInLockoutMax { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Threads of their own that check passwords (PBKDF2), apart from the threads that serve messaging.</summary>
    public int PasswordCheckThreads { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Password checks that may wait for those threads; past that, sign-ins get 429 at once.</summary>
    public int PasswordChecksQueued { get; set; } = 64;

    /// <summary>Token tester calls per admin per minute.</summary>
    public int TokenTestsPerAdminPerMinute { get; set; } = 30;

    /// <summary>
    /// WebSocket frames a visitor's connection may send per second, sustained… Past the burst the
    /// server reads its frames no faster (TCP pushes back on the sender; nothing is dropped).
    /// Agents' connections are not limited.
    /// </summary>
    public int FramesPerSecond { get; set; } = 20;

    /// <summary>…and in a burst.</summary>
    public int FrameBurst { get; set; } = 60;

    /// <summary>Mid-chat login attempts (<c>/authenticate</c>, <c>conversation.authenticate</c>) per conversation per minute.</summary>
    public int MidChatLoginsPerConversationPerMinute { get; set; } = 10;

    /// <summary>Mid-chat login links the bot issues per conversation in 10 minutes (each is a stored login state).</summary>
    public int LoginLinksPerConversation { get; set; } = 5;

    /// <summary>Open WebSockets per consumer on one node (a visitor's tabs and devices).</summary>
    public int MaxConnectionsPerConsumer { get; set; } = 20;

    /// <summary>
    /// Reverse proxies whose <c>X-Forwarded-For</c> is believed (loopback always is): without them,
    /// every visitor behind the proxy would share one IP's limit.
    /// </summary>
    public List<string> KnownProxies { get; set; } = [];
}

/// <summary>A connection's frame budget: a token bucket refilled from the clock on use (no timer per connection).</summary>
internal sealed class FrameBudget(int perSecond, int burst, TimeProvider time)
{
    public int PerSecond => perSecond;

    /// <summary>How long until one frame's token is there again.</summary>
    public TimeSpan UntilNext() => TimeSpan.FromSeconds(Math.Max(0, 1 - _tokens) / perSecond);

    private double _tokens = burst;
    private long _last = time.GetTimestamp();

    /// <summary>Takes one frame's token; false when the connection is over its budget.</summary>
    public bool TryTake()
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + time.GetElapsedTime(_last, now).TotalSeconds * perSecond);
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        return true;
    }
}

/// <summary>Open WebSockets per consumer on this node.</summary>
public sealed class ConsumerConnections(IOptions<LimitOptions> options)
{
    private readonly ConcurrentDictionary<Guid, int> _open = new();

    /// <summary>Counts a connection in; false (and nothing counted) when the consumer is at the limit.</summary>
    public bool TryOpen(Guid consumerId)
    {
        while (true)
        {
            var current = _open.GetValueOrDefault(consumerId);
            if (current >= options.Value.MaxConnectionsPerConsumer)
            {
                return false;
            }

            if (current == 0 ? _open.TryAdd(consumerId, 1) : _open.TryUpdate(consumerId, current + 1, current))
            {
                return true;
            }
        }
    }

    public void Close(Guid consumerId)
    {
        while (_open.TryGetValue(consumerId, out var current))
        {
            if (current <= 1 ? _open.TryRemove(new KeyValuePair<Guid, int>(consumerId, current)) : _open.TryUpdate(consumerId, current - 1, current))
            {
                return;
            }
        }
    }
}

/// <summary>A fixed-window limit per id (a deployment, a conversation), on this node; each refusal is counted under <paramref name="policy"/>.</summary>
public abstract class PerIdLimiter(int permits, TimeSpan window, string policy, Operations.ParleyMetrics? metrics) : IDisposable
{
    private readonly PartitionedRateLimiter<Guid> _limiter = PartitionedRateLimiter.Create<Guid, Guid>(id =>
        RateLimitPartition.GetFixedWindowLimiter(id, _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = window, QueueLimit = 0 }));

    public bool TryAcquire(Guid id)
    {
        using var lease = _limiter.AttemptAcquire(id);
        if (!lease.IsAcquired)
        {
            metrics?.RateLimited(policy);
        }

        return lease.IsAcquired;
    }

    public void Dispose()
    {
        _limiter.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Mid-chat login links per conversation: each is a login state Parley stores until it expires.</summary>
public sealed class LoginLinkLimiter(IOptions<LimitOptions> options, Operations.ParleyMetrics? metrics = null)
    : PerIdLimiter(options.Value.LoginLinksPerConversation, TimeSpan.FromMinutes(10), "parley-login-links", metrics);

/// <summary>
/// Mid-chat login attempts per conversation (REST and WebSocket alike): each refused one is
/// audited, so a flood of forged tokens at one conversation stops here.
/// </summary>
public sealed class MidChatLoginLimiter(IOptions<LimitOptions> options, Operations.ParleyMetrics? metrics = null)
    : PerIdLimiter(options.Value.MidChatLoginsPerConversationPerMinute, TimeSpan.FromMinutes(1), "parley-mid-chat-logins", metrics);

/// <summary>Session starts per deployment, checked once the deployment is known (it is in the request body).</summary>
public sealed class DeploymentSessionLimiter(IOptions<LimitOptions> options, Operations.ParleyMetrics? metrics = null)
    : PerIdLimiter(options.Value.SessionsPerDeploymentPerMinute, TimeSpan.FromMinutes(1), "parley-deployment-sessions", metrics);

public static class AbuseLimits
{
    public const string SessionsPolicy = "parley-sessions";
    public const string TokenTestPolicy = "parley-token-test";
    public const string SignInPolicy = "parley-sign-in";

    public static IServiceCollection AddAbuseLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LimitOptions>().Bind(configuration.GetSection(LimitOptions.Section))
            .Validate(o => o.SessionsPerIpPerMinute > 0 && o.SessionsPerDeploymentPerMinute > 0 && o.TokenTestsPerAdminPerMinute > 0
                && o.FramesPerSecond > 0 && o.FrameBurst >= 1 && o.MaxConnectionsPerConsumer > 0 && o.LoginLinksPerConversation > 0 && o.MidChatLoginsPerConversationPerMinute > 0, "Parley:Limits values must be positive.")
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)), "Parley:Limits:KnownProxies must be IP addresses.")
            .Validate(o => o.SignInsPerIpPerMinute > 0 && o.SignInFailuresBeforeLock > 0 && o.PasswordCheckThreads > 0 && o.PasswordChecksQueued > 0
                && o.SignInLockout > TimeSpan.Zero && o.SignInLockoutMax >= o.SignInLockout, "Parley:Limits sign-in values must be positive, and SignInLockoutMax at least SignInLockout.")
            .ValidateOnStart();
        services.AddSingleton<ConsumerConnections>();
        services.AddSingleton<DeploymentSessionLimiter>();
        services.AddSingleton<LoginLinkLimiter>();
        services.AddSingleton<MidChatLoginLimiter>();
        services.AddSingleton<PasswordChecks>();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<LimitOptions>>((forwarded, limits) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var proxy in limits.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (rejected, _) =>
            {
                var policy = rejected.HttpContext.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.RateLimiting.EnableRateLimitingAttribute>()?.PolicyName ?? "unknown";
                rejected.HttpContext.RequestServices.GetRequiredService<Operations.ParleyMetrics>().RateLimited(policy);
                return new ValueTask(RateLimited(rejected.HttpContext,
                    rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1)).ExecuteAsync(rejected.HttpContext));
            };
            limiter.AddPolicy(SessionsPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => PerMinute(context.RequestServices.GetRequiredService<IOptions<LimitOptions>>().Value.SessionsPerIpPerMinute)));
            limiter.AddPolicy(SignInPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => PerMinute(context.RequestServices.GetRequiredService<IOptions<LimitOptions>>().Value.SignInsPerIpPerMinute)));
            limiter.AddPolicy(TokenTestPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Items[typeof(Caller)] is AgentCaller admin ? admin.AgentId.ToString() : "anonymous",
                _ => PerMinute(context.RequestServices.GetRequiredService<IOptions<LimitOptions>>().Value.TokenTestsPerAdminPerMinute)));
        });
        return services;
    }

    private static FixedWindowRateLimiterOptions PerMinute(int permits) => new()
    {
        PermitLimit = permits,
        Window = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
    };

    /// <summary>A 429 in Parley's error shape, with <c>Retry-After</c> in seconds.</summary>
    public static ProblemHttpResult RateLimited(HttpContext context, TimeSpan retryAfter)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            title: ErrorCodes.RateLimited,
            detail: "Too many requests; try again after the Retry-After delay.",
            statusCode: StatusCodes.Status429TooManyRequests,
            extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.RateLimited, ["retryable"] = true });
    }
}
