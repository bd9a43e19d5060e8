using Parley.Messaging;
using System.Text.Json.Nodes;
using Parley.Authentication;
using Parley.Conversations;
using Parley.Storage;

namespace Parley.Bots;

/// <summary>
/// The deployment's bot: greets new conversations and, while no agent has the conversation,
/// answers the cases it recognises. A case that requires authentication, asked for by an anonymous
/// consumer, gets a login link first and continues once the conversation is authenticated. The
/// bot hands the conversation over to routing (into a queue) on a hand-over case, and on a message
/// it does not understand while it still has the conversation.
/// </summary>
public sealed partial class BotResponder(
    IDeploymentStore deploymentStore, IConversationStore conversationStore, IConsumerStore consumerStore,
    MessageWriter writer,
    ConversationLifecycle lifecycle,
    LoginLinks links,
    Security.LoginLinkLimiter linkLimiter,
    Routing.Router router,
    TimeProvider time,
    ILogger<BotResponder> logger)
{
    /// <summary>A deployment's bot is read at most every 5 seconds (per node).</summary>
    private readonly Caching.ShortCache<Guid, BotSettings?> _bots = new(TimeSpan.FromSeconds(5), time);

    /// <summary>Drops a cached bot after an admin changed it on this node.</summary>
    public void Forget(Guid deploymentId) => _bots.Forget(deploymentId);

    public Task<BotSettings?> BotOfAsync(Guid deploymentId, CancellationToken cancellationToken) =>
        _bots.GetAsync(deploymentId, async (id, ct) => (await deploymentStore.GetDeploymentAsync(id, ct))?.Bot, cancellationToken);

    /// <summary>Posts the greeting into a conversation that was just created; false when the bot has none.</summary>
    public async Task<bool> GreetAsync(Conversation conversation, CancellationToken cancellationToken)
    {
        if (await BotOfAsync(conversation.DeploymentId, cancellationToken) is not { Greeting: { Length: > 0 } greeting })
        {
            return false;
        }

        await SayAsync(conversation, greeting, cancellationToken);
        return true;
    }

    /// <summary>
    /// Called once a consumer's message is durable. Runs in the background: a failure is logged
    /// and never touches the consumer's acknowledged message.
    /// </summary>
    public async Task OnConsumerMessageAsync(Conversation conversation, Message message)
    {
        try
        {
            if (conversation.AssignedAgentId is not null
                || await BotOfAsync(conversation.DeploymentId, CancellationToken.None) is not { } bot)
            {
                return;
            }

            if (bot.Match(message.Text) is not { } matched)
            {
                if (conversation.Queue is null)
                {
                    await SayAsync(conversation, "I cannot help with that myself. I am passing you to an agent.", CancellationToken.None);
                    await HandOverAsync(conversation, null, CancellationToken.None);
                }

                return;
            }

            await conversationStore.SetConversationBotCaseAsync(conversation.Id, matched.Name, time.GetUtcNow(), CancellationToken.None);
            if (matched.NeedsLogin && !conversation.Authenticated)
            {
                await RequestLoginAsync(conversation, matched, null);
                return;
            }

            await RunIfAssuredAsync(conversation, matched);
        }
        catch (Exception exception) when (exception is StorageUnavailableException or ParleyException or HttpRequestException or TaskCanceledException)
        {
            LogBotFailed(logger, conversation.Id, exception);
        }
    }

    /// <summary>After a mid-chat login: the case that asked for it continues. Runs in the background, like answers.</summary>
    public async Task OnAuthenticatedAsync(Conversation conversation)
    {
        try
        {
            if (conversation.AssignedAgentId is null
                && await BotOfAsync(conversation.DeploymentId, CancellationToken.None) is { } bot
                && bot.Find(conversation.BotCase) is { NeedsLogin: true } pending)
            {
                // However the login came (a link for this case, the page's own token, a merge), the case's assurance is checked here.
                await RunIfAssuredAsync(conversation, pending);
            }
        }
        catch (Exception exception) when (exception is StorageUnavailableException or ParleyException or TaskCanceledException)
        {
            LogBotFailed(logger, conversation.Id, exception);
        }
    }

    /// <summary>
    /// Runs a case for a logged-in customer whose latest login is strong and recent enough for it
    /// (as Parley stored it: <c>acr</c>, <c>auth_time</c>); otherwise asks them to step up, for this case only.
    /// </summary>
    private async Task RunIfAssuredAsync(Conversation conversation, BotCase botCase)
    {
        if (botCase.Assurance is { } assurance
            && await consumerStore.GetVerifiedIdentityAsync(conversation.ConsumerId, CancellationToken.None) is var identity
            && assurance.Shortfall(identity?.Acr, identity?.AuthTime, time.GetUtcNow(), TimeSpan.Zero) is { } shortfall)
        {
            await RequestLoginAsync(conversation, botCase, shortfall);
            return;
        }

        await RunCaseAsync(conversation, botCase, CancellationToken.None);
    }

    /// <summary>
    /// Sends a login link for the case (asking the identity provider for the case's assurance, if
    /// any). <paramref name="shortfall"/> says why a logged-in customer logs in again: <c>acr</c>
    /// (too weak) or <c>auth_time</c> (too old); null for a first login.
    /// </summary>
    private async Task RequestLoginAsync(Conversation conversation, BotCase matched, string? shortfall)
    {
        if (!linkLimiter.TryAcquire(conversation.Id))
        {
            // Each link is a stored login state: a visitor repeating the case gets no more of them for a while.
            await SayAsync(conversation, "You have asked for several logins in a short time. Please use the last login link, or try again in a few minutes.", CancellationToken.None);
            return;
        }

        if (await links.CreateAsync(conversation, CancellationToken.None, matched.Assurance) is not { } link)
        {
            // The brand has not set up a login for this deployment: a person has to help.
            await SayAsync(conversation, $"I can only help with \"{matched.Name}\" once you are logged in, and I cannot log you in here. I am passing you to an agent.", CancellationToken.None);
            await HandOverAsync(conversation, matched, CancellationToken.None);
            return;
        }

        await SayAsync(conversation, shortfall switch
        {
            "acr" => $"To help with \"{matched.Name}\" I need a stronger login: please log in again.",
            "auth_time" => $"To help with \"{matched.Name}\" I need a recent login: please log in again.",
            _ => $"To help with \"{matched.Name}\" I need you to log in first.",
        }, CancellationToken.None);
        var data = new JsonObject
        {
            ["case"] = matched.Name,
            ["url"] = link.Url,
            ["expiresAt"] = link.ExpiresAt.ToString("O"),
        };
        if (shortfall is not null)
        {
            data["stepUp"] = shortfall;
        }

        await lifecycle.RecordAsync(conversation, SystemEvent.OfBot(SystemEvents.AuthenticationRequested, data), CancellationToken.None);
    }

    private async Task RunCaseAsync(Conversation conversation, BotCase botCase, CancellationToken cancellationToken)
    {
        if (botCase.Answer is { Length: > 0 } answer)
        {
            await SayAsync(conversation, answer, cancellationToken);
        }

        if (botCase.HandOver)
        {
            await HandOverAsync(conversation, botCase, cancellationToken);
        }
    }

    /// <summary>Puts the conversation in a queue: the case's, when it names one the tenant has, else the one routing picks.</summary>
    private async Task HandOverAsync(Conversation conversation, BotCase? botCase, CancellationToken cancellationToken)
    {
        // The visitor sees this event: it names the case, never the queue (a queue's name is the brand's business).
        await router.RerouteAsync(conversation.Id, enqueue: true, botCase?.Queue, cancellationToken);
        await lifecycle.RecordAsync(conversation, SystemEvent.OfBot(SystemEvents.ConversationHandover, new JsonObject { ["case"] = botCase?.Name }), cancellationToken);
    }

    private Task<AppendResult> SayAsync(Conversation conversation, string text, CancellationToken cancellationToken) =>
        writer.AppendAsync(conversation.TenantId,
            new NewMessage(conversation.Id, MessageKind.Text, ParticipantRole.Bot, null, null, text, time.GetUtcNow()), cancellationToken);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "The bot could not answer in conversation {ConversationId}")]
    private static partial void LogBotFailed(ILogger logger, Guid conversationId, Exception exception);
}
