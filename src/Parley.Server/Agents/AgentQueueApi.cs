using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Conversations;
using Parley.Messaging;
using Parley.Security;

namespace Parley.Agents;

/// <summary>An agent's queue: what waits in the queues they serve, taking the next one, accepting one (docs/routing.md).</summary>
public static class AgentQueueApi
{
    public static IEndpointRouteBuilder MapAgentQueueApi(this IEndpointRouteBuilder app)
    {
        var agent = app.MapGroup("/api/v1/agent").RequireAuthorization(CallerSchemes.Agent);
        agent.MapGet("/queue", WaitingAsync);
        agent.MapPost("/conversations/next", NextAsync);
        agent.MapPost("/conversations/{conversationId:guid}/accept", AcceptAsync);
        return app;
    }

    private static async Task<Ok<IReadOnlyList<AgentConversationView>>> WaitingAsync(
        int? limit, HttpContext context, ConversationService conversations, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<AgentConversationView>>(
            (await conversations.WaitingForAsync(context.Caller<AgentCaller>(), Math.Clamp(limit ?? 50, 1, 200), cancellationToken))
            .Select(c => c.ToAgentView()).ToList());

    private static async Task<Results<Ok<AgentConversationView>, NoContent>> NextAsync(
        HttpContext context, ConversationService conversations, CancellationToken cancellationToken) =>
        await conversations.TakeNextAsync(context.Caller<AgentCaller>(), cancellationToken) is { } next
            ? TypedResults.Ok(next.ToAgentView())
            : TypedResults.NoContent();

    private static async Task<Ok<AgentConversationView>> AcceptAsync(
        Guid conversationId, HttpContext context, ConversationService conversations, CancellationToken cancellationToken) =>
        TypedResults.Ok((await conversations.AcceptAsync(context.Caller<AgentCaller>(), conversationId, cancellationToken)).ToAgentView());
}
