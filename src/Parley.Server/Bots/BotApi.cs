using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Security;
using Parley.Storage;

namespace Parley.Bots;

public static class BotApi
{
    /// <summary>An admin reads or replaces a deployment's bot: greeting and cases (docs/api.md).</summary>
    public static IEndpointRouteBuilder MapBotApi(this IEndpointRouteBuilder app)
    {
        var bot = app.MapGroup("/api/v1/admin/deployments/{deploymentId:guid}/bot").RequireAuthorization(CallerSchemes.Admin);
        bot.MapGet("/", GetAsync);
        bot.MapPut("/", PutAsync);
        bot.MapDelete("/", DeleteAsync);
        return app;
    }

    private static async Task<Ok<BotSettings>> GetAsync(
        Guid deploymentId, HttpContext context, IDeploymentStore deploymentStore, CancellationToken cancellationToken) =>
        TypedResults.Ok((await context.OwnDeploymentAsync(deploymentStore, deploymentId, cancellationToken)).Bot ?? new BotSettings());

    private static async Task<Ok<BotSettings>> PutAsync(
        Guid deploymentId, BotSettings request, HttpContext context, IDeploymentStore deploymentStore, BotResponder bots, Audit.AuditLog audit, CancellationToken cancellationToken)
    {
        await context.OwnDeploymentAsync(deploymentStore, deploymentId, cancellationToken);
        var bot = request with { Cases = request.Cases ?? [] };
        if (bot.Validate() is { } problem)
        {
            throw ParleyException.Invalid(problem);
        }

        await deploymentStore.SetDeploymentBotAsync(deploymentId, bot, cancellationToken);
        bots.Forget(deploymentId);
        await audit.ChangedAsync(context, Audit.AuditKinds.BotChanged, deploymentId, $"{bot.Cases.Count} cases");
        return TypedResults.Ok(bot);
    }

    private static async Task<NoContent> DeleteAsync(
        Guid deploymentId, HttpContext context, IDeploymentStore deploymentStore, BotResponder bots, Audit.AuditLog audit, CancellationToken cancellationToken)
    {
        await context.OwnDeploymentAsync(deploymentStore, deploymentId, cancellationToken);
        await deploymentStore.SetDeploymentBotAsync(deploymentId, null, cancellationToken);
        bots.Forget(deploymentId);
        await audit.ChangedAsync(context, Audit.AuditKinds.BotChanged, deploymentId, "removed");
        return TypedResults.NoContent();
    }
}
