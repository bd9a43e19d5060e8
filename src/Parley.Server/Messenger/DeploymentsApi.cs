using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Operations;
using Parley.Security;
using Parley.Storage;
using Parley.Tenants;

namespace Parley.Messenger;

public sealed record CreateDeploymentRequest(string? Name, IReadOnlyList<string>? AllowedOrigins);

public sealed record DeploymentOriginsRequest(IReadOnlyList<string>? AllowedOrigins);

/// <summary>
/// The admin API for a tenant's deployments: list them (each with its messenger settings and the
/// snippet), create one, and replace the origins its messenger may run on.
/// </summary>
public static class DeploymentsApi
{
    public const int MaxOrigins = 50;

    public static IEndpointRouteBuilder MapDeploymentsApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/v1/admin/deployments").RequireAuthorization(CallerSchemes.Admin);
        admin.MapGet("/", ListAsync);
        admin.MapPost("/", CreateAsync);
        admin.MapPut("/{deploymentId:guid}/origins", PutOriginsAsync);
        return app;
    }

    private static async Task<Ok<IReadOnlyList<MessengerAdminView>>> ListAsync(
        HttpContext context, IDeploymentStore deploymentStore, PublicAddress address, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<MessengerAdminView>>(
            (await deploymentStore.ListDeploymentsAsync(context.Caller<AgentCaller>().TenantId, cancellationToken))
            .Select(d => MessengerEndpoints.AdminView(d, address)).ToList());

    private static async Task<Created<MessengerAdminView>> CreateAsync(
        CreateDeploymentRequest request, HttpContext context, IDeploymentStore deploymentStore, PublicAddress address, TimeProvider time,
        Audit.AuditLog audit, CancellationToken cancellationToken)
    {
        var name = request.Name?.Trim();
        if (name is not { Length: > 0 and <= 80 })
        {
            throw ParleyException.Invalid("name is required, at most 80 characters.");
        }

        var deployment = new Deployment(Guid.NewGuid(), context.Caller<AgentCaller>().TenantId, name, Origins(request.AllowedOrigins), time.GetUtcNow());
        await deploymentStore.CreateDeploymentAsync(deployment, cancellationToken);
        await audit.ChangedAsync(context, Audit.AuditKinds.DeploymentCreated, deployment.Id, name);
        return TypedResults.Created($"/api/v1/admin/deployments/{deployment.Id}/messenger", MessengerEndpoints.AdminView(deployment, address));
    }

    private static async Task<Ok<MessengerAdminView>> PutOriginsAsync(
        Guid deploymentId, DeploymentOriginsRequest request, HttpContext context, IDeploymentStore deploymentStore, PublicAddress address,
        Audit.AuditLog audit, CancellationToken cancellationToken)
    {
        var deployment = await context.OwnDeploymentAsync(deploymentStore, deploymentId, cancellationToken);
        var origins = Origins(request.AllowedOrigins);
        await deploymentStore.SetDeploymentOriginsAsync(deploymentId, origins, cancellationToken);
        await audit.ChangedAsync(context, Audit.AuditKinds.DeploymentChanged, deploymentId, $"{origins.Count} allowed origin(s)");
        return TypedResults.Ok(MessengerEndpoints.AdminView(deployment with { AllowedOrigins = origins }, address));
    }

    /// <summary>
    /// Browser origins as browsers send them: <c>https://host[:port]</c> (or http), nothing after
    /// the authority, lower case, each once. A wildcard would let any site run the messenger.
    /// </summary>
    public static IReadOnlyList<string> Origins(IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            return [];
        }

        if (values.Count > MaxOrigins)
        {
            throw ParleyException.Invalid($"at most {MaxOrigins} allowed origins.");
        }

        var origins = new List<string>();
        foreach (var value in values)
        {
            var text = value?.Trim() ?? "";
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)
                || uri.Scheme is not ("https" or "http")
                || uri.UserInfo.Length > 0
                || uri.PathAndQuery != "/" || uri.Fragment.Length > 0
                || text.TrimEnd('/').Length != uri.GetLeftPart(UriPartial.Authority).Length)
            {
                throw ParleyException.Invalid($"\"{text}\" is not an origin: write scheme://host[:port], e.g. https://www.brand.example (no path, no wildcard).");
            }

            var origin = uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
            if (!origins.Contains(origin))
            {
                origins.Add(origin);
            }
        }

        return origins;
    }
}
