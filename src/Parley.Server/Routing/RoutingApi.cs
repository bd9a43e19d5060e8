using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Agents;
using Parley.Security;
using Parley.Storage;

namespace Parley.Routing;

/// <summary>One queue on the admin API: its definition, its figures now, and who serves it.</summary>
public sealed record QueueView(
    string Name,
    string? DisplayName,
    int Waiting,
    double? LongestWaitSeconds,
    int RespondedLast24Hours,
    double? AverageFirstResponseSeconds,
    int Agents,
    int AgentsConnected);

/// <summary>What an admin sets for an agent: the queues they serve (null: all) and how many open conversations they hold at most.</summary>
public sealed record AgentRoutingRequest(IReadOnlyList<string>? Queues, int Capacity);

public static class RoutingApi
{
    public static IServiceCollection AddRouting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RoutingOptions>()
            .Bind(configuration.GetSection(RoutingOptions.Section))
            .Validate(o => o.SweepInterval >= TimeSpan.FromSeconds(1), "Parley:Routing:SweepInterval must be at least one second.")
            .ValidateOnStart();
        services.AddSingleton<RoutingConfigurations>();
        services.AddSingleton<AgentPresence>();
        services.AddSingleton<AutoAssigner>();
        services.AddSingleton<Router>();
        services.AddSingleton<QueueMetrics>();
        services.AddSingleton<RoutingMaintenance>();
        services.AddHostedService(sp => sp.GetRequiredService<RoutingMaintenance>());
        return services;
    }

    /// <summary>
    /// Admins: <c>/api/v1/admin/routing</c>, <c>/api/v1/admin/queues</c>, <c>/api/v1/admin/agents</c>.
    /// Agents: <c>/api/v1/agent/queue</c>, <c>…/conversations/next</c>, <c>…/conversations/{id}/accept</c> (docs/api.md).
    /// </summary>
    public static IEndpointRouteBuilder MapRoutingApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/v1/admin").RequireAuthorization(CallerSchemes.Admin);
        admin.MapGet("/routing", GetRoutingAsync);
        admin.MapPut("/routing", PutRoutingAsync);
        admin.MapGet("/queues", QueuesAsync);
        admin.MapGet("/agents", AgentsAsync);
        admin.MapPut("/agents/{agentId:guid}/routing", PutAgentRoutingAsync);

        return app;
    }

    private static async Task<Ok<RoutingConfiguration>> GetRoutingAsync(HttpContext context, IRoutingStore routingStore, CancellationToken cancellationToken) =>
        TypedResults.Ok(await routingStore.GetRoutingConfigurationAsync(context.Caller<AgentCaller>().TenantId, cancellationToken) ?? RoutingConfiguration.Default);

    /// <summary>Replaces the tenant's routing. Nothing is stored unless all of it is valid; the error names the rule and the character.</summary>
    private static async Task<Results<Ok<RoutingConfiguration>, ProblemHttpResult>> PutRoutingAsync(
        RoutingConfiguration request, HttpContext context, IRoutingStore routingStore, RoutingConfigurations configurations, TimeProvider time,
        Audit.AuditLog audit, CancellationToken cancellationToken)
    {
        var tenantId = context.Caller<AgentCaller>().TenantId;
        try
        {
            request.Compile();
        }
        catch (RoutingRulesException invalid)
        {
            return TypedResults.Problem(
                detail: invalid.Message,
                statusCode: StatusCodes.Status400BadRequest,
                extensions: new Dictionary<string, object?>
                {
                    ["code"] = ErrorCodes.InvalidRequest,
                    ["rule"] = invalid.Rule,
                    ["position"] = invalid.Position,
                });
        }

        await routingStore.SaveRoutingConfigurationAsync(tenantId, request, time.GetUtcNow(), cancellationToken);
        configurations.Forget(tenantId);
        await audit.ChangedAsync(context, Audit.AuditKinds.RoutingChanged, detail: $"{request.Queues.Count} queues, {request.Rules.Count} rules");
        return TypedResults.Ok(request);
    }

    private static async Task<Ok<IReadOnlyList<QueueView>>> QueuesAsync(
        HttpContext context, IAgentStore agentStore, IRoutingStore routingStore, RoutingConfigurations configurations, AgentPresence presence, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var tenantId = context.Caller<AgentCaller>().TenantId;
        var now = time.GetUtcNow();
        var configuration = (await configurations.GetAsync(tenantId, cancellationToken)).Configuration;
        var statistics = await routingStore.GetQueueStatisticsAsync(tenantId, now - QueueMetrics.ResponseWindow, cancellationToken);
        var agents = await agentStore.ListAgentsAsync(tenantId, cancellationToken);
        var connected = (await presence.ConnectedAgentsAsync(tenantId, cancellationToken)).ToHashSet();

        // Queues the configuration no longer lists still show while conversations wait in them.
        var names = configuration.Queues.Select(q => q.Name).Union(statistics.Select(s => s.Queue), StringComparer.Ordinal);
        var views = names.Select(name =>
        {
            var figures = statistics.FirstOrDefault(s => s.Queue == name);
            var serving = agents.Where(a => a.Serves(name)).ToList();
            return new QueueView(
                name,
                configuration.Queues.FirstOrDefault(q => q.Name == name)?.DisplayName,
                figures?.Waiting ?? 0,
                figures?.OldestQueuedAt is { } oldest ? Math.Round(Math.Max(0, (now - oldest).TotalSeconds), 1) : null,
                figures?.Responded ?? 0,
                figures?.AverageFirstResponseMilliseconds is { } average ? Math.Round(average / 1000, 1) : null,
                serving.Count,
                serving.Count(a => connected.Contains(a.Id)));
        }).ToList();
        return TypedResults.Ok<IReadOnlyList<QueueView>>(views);
    }

    private static async Task<Ok<IReadOnlyList<AgentView>>> AgentsAsync(HttpContext context, IAgentStore agentStore, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<AgentView>>(
            (await agentStore.ListAgentsAsync(context.Caller<AgentCaller>().TenantId, cancellationToken)).Select(a => a.ToView()).ToList());

    private static async Task<Ok<AgentView>> PutAgentRoutingAsync(
        Guid agentId, AgentRoutingRequest request, HttpContext context, IAgentStore agentStore, RoutingConfigurations configurations,
        Audit.AuditLog audit, CancellationToken cancellationToken)
    {
        var tenantId = context.Caller<AgentCaller>().TenantId;
        if (await agentStore.GetAgentAsync(agentId, cancellationToken) is not { } agent || agent.TenantId != tenantId)
        {
            throw ParleyException.NotFound("The agent");
        }

        var queues = await ValidAgentRoutingAsync(tenantId, request.Capacity, request.Queues, configurations, cancellationToken);
        await agentStore.SetAgentRoutingAsync(agentId, queues, request.Capacity, cancellationToken);
        await audit.ChangedAsync(context, Audit.AuditKinds.RoutingChanged, detail: $"agent {agentId}: capacity {request.Capacity}, queues {(queues is null ? "all" : string.Join(", ", queues))}");
        return TypedResults.Ok((agent with { Queues = queues, Capacity = request.Capacity }).ToView());
    }

    /// <summary>An agent's capacity and queues, checked against the tenant's queues: the queues without repeats, or invalid_request.</summary>
    internal static async Task<IReadOnlyList<string>?> ValidAgentRoutingAsync(
        Guid tenantId, int capacity, IReadOnlyList<string>? queues, RoutingConfigurations configurations, CancellationToken cancellationToken)
    {
        if (capacity is < 0 or > Agent.MaxCapacity)
        {
            throw ParleyException.Invalid($"capacity is 0 to {Agent.MaxCapacity}.");
        }

        var configuration = (await configurations.GetAsync(tenantId, cancellationToken)).Configuration;
        if (queues?.FirstOrDefault(q => !configuration.HasQueue(q)) is { } unknown)
        {
            throw ParleyException.Invalid($"queues: \"{unknown}\" is not one of the tenant's queues.");
        }

        return queues?.Distinct(StringComparer.Ordinal).ToList();
    }
}
