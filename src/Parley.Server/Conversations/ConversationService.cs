using Parley.Messaging;
using Microsoft.Extensions.Options;
using Parley.Security;
using Parley.Storage;

namespace Parley.Conversations;

/// <summary>
/// The messaging use cases, shared by the REST API and both WebSocket roles. Every lookup is
/// scoped to the caller: a conversation that is not theirs is reported exactly like a missing one.
/// </summary>
public sealed class ConversationService(
    IConsumerStore consumerStore, IAgentStore agentStore, IConversationStore conversationStore, IMessageStore messageStore, IRoutingStore routingStore,
    IDeploymentStore deploymentStore,
    MessageWriter writer,
    ConversationLifecycle lifecycle,
    ILiveFanout fanout,
    Bots.BotResponder bots,
    Routing.Router router,
    Routing.AutoAssigner assigner,
    Audit.AuditLog audit,
    SessionRevocation revocation,
    TimeProvider time,
    IOptions<ParleyOptions> options)
{
    /// <summary>The conversation if the caller may see it; otherwise not_found.</summary>
    public async Task<Conversation> GetAsync(Caller caller, Guid conversationId, CancellationToken cancellationToken)
    {
        EnsureSessionLasts(caller);
        var conversation = await conversationStore.GetConversationAsync(conversationId, cancellationToken);
        var visible = conversation is not null && caller switch
        {
            ConsumerCaller consumer => conversation.ConsumerId == consumer.ConsumerId,
            AgentCaller agent => conversation.TenantId == agent.TenantId,
            _ => false,
        };
        return visible ? conversation! : throw ParleyException.NotFound("The conversation");
    }

    private void EnsureSessionLasts(Caller caller)
    {
        if (caller is AgentCaller { SessionExpiresAt: var signedInUntil } && signedInUntil <= time.GetUtcNow())
        {
            throw new ParleyException(ErrorCodes.AuthenticationExpired, "Your sign-in has expired. Sign in again.", StatusCodes.Status401Unauthorized);
        }

        if (caller is ConsumerCaller { SessionExpiresAt: var expires } && expires <= time.GetUtcNow())
        {
            // A socket opened before the session ended must not outlive it: log in again (a new
            // session for the same consumer keeps the conversation).
            throw new ParleyException(ErrorCodes.AuthenticationExpired,
                "This device's session has ended (for a logged-in visitor: the authentication expired). Start a new session, then resend.",
                StatusCodes.Status401Unauthorized);
        }
    }

    public Task<IReadOnlyList<Conversation>> ListForConsumerAsync(ConsumerCaller consumer, CancellationToken cancellationToken) =>
        conversationStore.ListConversationsByConsumerAsync(consumer.ConsumerId, cancellationToken);

    public Task<IReadOnlyList<Conversation>> ListForAgentAsync(
        AgentCaller agent, ConversationStatus? status, int limit, CancellationToken cancellationToken) =>
        conversationStore.ListConversationsByTenantAsync(agent.TenantId, status, limit, cancellationToken);

    public async Task<IReadOnlyList<Message>> HistoryAsync(
        Caller caller, Guid conversationId, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await GetAsync(caller, conversationId, cancellationToken);
        return await messageStore.GetMessagesAsync(conversationId, Math.Max(0, afterSeq), Math.Clamp(limit, 1, 200), cancellationToken);
    }

    public async Task<IReadOnlyList<Receipt>> ReceiptsAsync(Caller caller, Guid conversationId, CancellationToken cancellationToken)
    {
        await GetAsync(caller, conversationId, cancellationToken);
        return await messageStore.GetReceiptsAsync(conversationId, cancellationToken);
    }

    /// <summary>
    /// The consumer's open conversation on this deployment (a consumer has one at most: every device
    /// of a logged-in customer joins it), or a new one. Attributes from the page replace the stored ones; they stay unverified. A new
    /// conversation starts with the deployment's bot when it has one (in no queue until the bot
    /// hands it over), otherwise in the queue the tenant's routing rules pick.
    /// </summary>
    public async Task<Conversation> StartAsync(
        ConsumerCaller consumer, IReadOnlyDictionary<string, string>? attributes, CancellationToken cancellationToken)
    {
        var engagement = ValidateAttributes(attributes);
        var now = time.GetUtcNow();
        var existing = (await ListForConsumerAsync(consumer, cancellationToken))
            .FirstOrDefault(c => c.IsOpen && c.DeploymentId == consumer.DeploymentId);
        if (existing is not null)
        {
            if (engagement is null || (engagement.Count == existing.Attributes.Count && engagement.All(a => existing.Attributes.TryGetValue(a.Key, out var v) && v == a.Value)))
            {
                return existing; // nothing new from the page: nothing to store or tell
            }

            // The page's facts changed: agents see them, and routing may place the conversation elsewhere.
            var updated = await lifecycle.ChangeAsync(existing.Id, async ct =>
            {
                await conversationStore.SetEngagementAttributesAsync(existing.Id, engagement, now, ct);
                return true;
            }, null, cancellationToken);
            await router.TryRerouteAsync(existing.Id);
            return updated ?? existing with { Attributes = engagement, UpdatedAt = now };
        }

        var owner = await consumerStore.GetConsumerAsync(consumer.ConsumerId, cancellationToken);
        if (owner?.IsAuthenticated != true
            && await deploymentStore.GetDeploymentAsync(consumer.DeploymentId, cancellationToken) is { Messenger.AuthenticatedOnly: true, AuthenticationSettingsId: not null })
        {
            throw new ParleyException(ErrorCodes.AuthenticationRequired,
                "This chat is for logged-in customers only: log in on the website, then start the chat.", StatusCodes.Status403Forbidden);
        }

        var conversation = new Conversation(
            Guid.NewGuid(), consumer.TenantId, consumer.DeploymentId, consumer.ConsumerId, ConversationStatus.Open,
            null, null, 0, engagement ?? EngagementAttributes.Empty, now, now, null, Authenticated: owner?.IsAuthenticated == true);
        if (await bots.BotOfAsync(consumer.DeploymentId, cancellationToken) is null)
        {
            conversation = await router.PlaceAsync(conversation, cancellationToken);
        }

        if (await lifecycle.CreateAsync(conversation, cancellationToken) is null)
        {
            // Another device of the same customer opened one meanwhile: that is the customer's conversation.
            return (await ListForConsumerAsync(consumer, cancellationToken)).FirstOrDefault(c => c.IsOpen && c.DeploymentId == consumer.DeploymentId)
                ?? throw new ParleyException(ErrorCodes.InvalidRequest, "The conversation could not be started; try again.", StatusCodes.Status409Conflict);
        }

        if (conversation.Queue is not null)
        {
            await assigner.TryAssignWaitingAsync(conversation.TenantId);
        }

        return await bots.GreetAsync(conversation, cancellationToken)
            ? await conversationStore.GetConversationAsync(conversation.Id, cancellationToken) ?? conversation
            : conversation;
    }

    /// <summary>
    /// Stores a text message and returns it once durable. A repeated client message id returns the
    /// original without storing anything.
    /// </summary>
    public async Task<AppendResult> SendAsync(
        Caller sender, Guid conversationId, string clientMessageId, string text, CancellationToken cancellationToken) =>
        await await SubmitAsync(sender, conversationId, clientMessageId, text, cancellationToken);

    /// <summary>
    /// Checks and queues a text message; the returned task completes when it is durable. A caller
    /// that submits in order gets its messages stored in that order, without waiting for each commit.
    /// </summary>
    public async Task<Task<AppendResult>> SubmitAsync(
        Caller sender, Guid conversationId, string clientMessageId, string text, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(clientMessageId) || clientMessageId.Length > 64)
        {
            throw ParleyException.Invalid("clientMessageId is required: 1 to 64 characters, unique per message.");
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw ParleyException.Invalid("text must not be empty.");
        }

        if (text.Length > options.Value.MaxMessageLength)
        {
            throw new ParleyException(ErrorCodes.MessageTooLong, $"text is longer than {options.Value.MaxMessageLength} characters.");
        }

        if ((PlainText.Problem("text", text, lineBreaks: true) ?? PlainText.Problem("clientMessageId", clientMessageId)) is { } control)
        {
            throw ParleyException.Invalid(control);
        }

        // Whether the sender may write here (the conversation is theirs, open, and an agent's own) is
        // checked when the message is appended, under the conversation's lock: no read before, and
        // no window in which the conversation could close between the check and the write.
        EnsureSessionLasts(sender);
        var guard = sender switch
        {
            ConsumerCaller consumer => new AppendGuard(consumer.TenantId, ConsumerId: consumer.ConsumerId),
            AgentCaller agent => new AppendGuard(agent.TenantId, AgentId: agent.AgentId),
            _ => throw ParleyException.NotFound("The conversation"),
        };
        var message = new NewMessage(
            conversationId, MessageKind.Text, sender.Role, sender.ParticipantId, clientMessageId, text, time.GetUtcNow(), Guard: guard);
        var stored = await writer.EnqueueAsync(sender.TenantId, message, cancellationToken);
        if (sender is ConsumerCaller visitor)
        {
            _ = AnswerAsync(stored, visitor);
        }

        return stored;
    }

    /// <summary>
    /// Lets the deployment's bot, if it has one, answer a consumer's message once it is durable (and
    /// only if it is new and no agent has the conversation).
    /// </summary>
    private async Task AnswerAsync(Task<AppendResult> stored, ConsumerCaller consumer)
    {
        // A failed store is reported to the sender by its acknowledgement; the bot just stays quiet.
        await ((Task)stored).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!stored.IsCompletedSuccessfully || await stored is not { Created: true } result)
        {
            return;
        }

        try
        {
            if (await bots.BotOfAsync(consumer.DeploymentId, CancellationToken.None) is not null
                && await conversationStore.GetConversationAsync(result.Message.ConversationId, CancellationToken.None) is { AssignedAgentId: null } conversation)
            {
                await bots.OnConsumerMessageAsync(conversation, result.Message);
            }
        }
        catch (StorageUnavailableException)
        {
            // The message is stored and acknowledged; the bot answers the next one.
        }
    }

    /// <summary>Records how far the caller received and read; marks only move forward.</summary>
    public async Task<Receipt> MarkAsync(
        Caller caller, Guid conversationId, long deliveredSeq, long readSeq, CancellationToken cancellationToken)
    {
        var conversation = await GetAsync(caller, conversationId, cancellationToken);
        var delivered = Math.Clamp(deliveredSeq, 0, conversation.LastSeq);
        var read = Math.Clamp(readSeq, 0, conversation.LastSeq);
        var receipt = await messageStore.UpsertReceiptAsync(
            new Receipt(conversationId, caller.ParticipantId, caller.Role, delivered, read, time.GetUtcNow()), cancellationToken);
        fanout.Publish(new ReceiptChanged(conversation.TenantId, receipt));
        return receipt;
    }

    public async Task TypingAsync(Caller caller, Guid conversationId, bool isTyping, CancellationToken cancellationToken)
    {
        var conversation = await GetAsync(caller, conversationId, cancellationToken);
        fanout.Publish(new TypingChanged(conversation.TenantId, conversationId, caller.ParticipantId, caller.Role, isTyping));
    }

    /// <summary>
    /// Assigns an open, unassigned conversation of the agent's tenant to the agent, if it is in a
    /// queue they serve (admins may take any) and they have room under their capacity.
    /// </summary>
    public async Task<Conversation> AcceptAsync(AgentCaller agent, Guid conversationId, CancellationToken cancellationToken)
    {
        var conversation = await GetAsync(agent, conversationId, cancellationToken);
        if (conversation.AssignedAgentId == agent.AgentId)
        {
            return conversation;
        }

        if (!conversation.IsOpen)
        {
            throw new ParleyException(ErrorCodes.ConversationClosed, "The conversation is closed.", StatusCodes.Status409Conflict);
        }

        var me = await AuthorizeAsync(agent, conversation, AgentAction.Take, cancellationToken);

        return await routingStore.TryAssignConversationAsync(conversationId, agent.AgentId, time.GetUtcNow(), cancellationToken) switch
        {
            AssignOutcome.Assigned => await ChangedAsync(conversationId, null, cancellationToken),
            AssignOutcome.AtCapacity => throw CapacityReached(me.Capacity),
            _ => throw new ParleyException(ErrorCodes.AlreadyAssigned, "Another agent has accepted this conversation.", StatusCodes.Status409Conflict),
        };
    }

    /// <summary>
    /// Assigns the agent the waiting conversation of their queues with the highest priority, then
    /// the longest wait; null when none is waiting.
    /// </summary>
    public async Task<Conversation?> TakeNextAsync(AgentCaller agent, CancellationToken cancellationToken)
    {
        var taken = await routingStore.TakeNextConversationAsync(agent.AgentId, time.GetUtcNow(), cancellationToken);
        return taken.Outcome switch
        {
            AssignOutcome.Assigned => await ChangedAsync(taken.ConversationId!.Value, null, cancellationToken),
            AssignOutcome.AtCapacity => throw CapacityReached(
                (await agentStore.GetAgentAsync(agent.AgentId, cancellationToken))?.Capacity ?? 0),
            _ => null,
        };
    }

    /// <summary>The conversations waiting in the agent's queues, in the order they would be taken.</summary>
    public async Task<IReadOnlyList<Conversation>> WaitingForAsync(AgentCaller agent, int limit, CancellationToken cancellationToken)
    {
        var me = await agentStore.GetAgentAsync(agent.AgentId, cancellationToken);
        return me is null ? [] : await routingStore.ListWaitingConversationsAsync(agent.TenantId, me.Queues, limit, cancellationToken);
    }

    private static ParleyException CapacityReached(int capacity) =>
        new(ErrorCodes.CapacityReached, $"Your capacity is {capacity} open conversations and you have that many. Close one first.", StatusCodes.Status409Conflict);

    /// <summary>Either side may close (an agent, one they hold); closing twice is harmless.</summary>
    public async Task<Conversation> CloseAsync(
        Caller caller, Guid conversationId, CancellationToken cancellationToken, string eventName = SystemEvents.ConversationClosed)
    {
        var conversation = await GetAsync(caller, conversationId, cancellationToken);
        if (caller is AgentCaller agent && conversation.IsOpen)
        {
            await AuthorizeAsync(agent, conversation, AgentAction.Act, cancellationToken);
        }

        var closed = await lifecycle.ChangeAsync(conversationId,
            ct => conversationStore.SetConversationStatusAsync(conversationId, ConversationStatus.Closed, time.GetUtcNow(), ct),
            By(caller, eventName), cancellationToken);
        if (closed is not null && conversation.AssignedAgentId is not null)
        {
            // The agent has room again.
            await assigner.TryAssignWaitingAsync(conversation.TenantId);
        }

        return closed ?? conversation;
    }

    /// <summary>Either side may resume a closed conversation. An agent who resumes it takes it (within capacity).</summary>
    public async Task<Conversation> ResumeAsync(Caller caller, Guid conversationId, CancellationToken cancellationToken)
    {
        var conversation = await GetAsync(caller, conversationId, cancellationToken);
        if (caller is AgentCaller taker && !conversation.IsOpen)
        {
            // An agent who resumes takes the conversation: the same rule as accepting it.
            await AuthorizeAsync(taker, conversation, AgentAction.Take, cancellationToken);
        }

        var anotherOpen = new ParleyException(ErrorCodes.InvalidRequest,
            "The customer has another open conversation; a customer has one open conversation per deployment.", StatusCodes.Status409Conflict);
        if (caller is ConsumerCaller consumer && (await ListForConsumerAsync(consumer, cancellationToken))
                .Any(c => c.IsOpen && c.Id != conversationId && c.DeploymentId == conversation.DeploymentId))
        {
            throw anotherOpen;
        }

        var resumed = await lifecycle.ChangeAsync(conversationId, async ct =>
        {
            try
            {
                if (!await conversationStore.SetConversationStatusAsync(conversationId, ConversationStatus.Open, time.GetUtcNow(), ct))
                {
                    return false;
                }
            }
            catch (DuplicateKeyException)
            {
                throw anotherOpen; // the customer's other device opened one meanwhile (or an agent resumes a customer's older one)
            }

            // An agent who resumes takes it if they have room; otherwise it waits in its queue, routed on today's facts.
            if (caller is not AgentCaller agent
                || await routingStore.TryAssignConversationAsync(conversationId, agent.AgentId, time.GetUtcNow(), ct) != AssignOutcome.Assigned)
            {
                await router.TryRerouteAsync(conversationId);
                await assigner.TryAssignWaitingAsync(conversation.TenantId);
            }

            return true;
        }, By(caller, SystemEvents.ConversationResumed), cancellationToken);
        return resumed ?? conversation;
    }

    /// <summary>
    /// "Clear history": ends the conversation and unlinks this device, so the next visit starts as
    /// a new visitor with nothing of the old history.
    /// </summary>
    public async Task ClearHistoryAsync(ConsumerCaller consumer, Guid conversationId, CancellationToken cancellationToken)
    {
        await CloseAsync(consumer, conversationId, cancellationToken, SystemEvents.ConversationCleared);
        await revocation.EndConsumerSessionAsync(consumer, "the history was cleared", cancellationToken);
        await audit.RecordAsync(consumer.TenantId, Audit.AuditKinds.HistoryCleared, Audit.AuditEvent.Succeeded, consumer, consumer.DeploymentId, conversationId,
            detail: "the conversation was ended and this device unlinked");
    }

    /// <summary>What an agent does to a conversation, as the one agent rule sees it.</summary>
    private enum AgentAction
    {
        /// <summary>Accept or resume: the agent takes the conversation.</summary>
        Take,

        /// <summary>Close (and, checked where it is stored, reply): the agent acts in a conversation.</summary>
        Act,
    }

    /// <summary>
    /// The one rule every agent action checks: to take a conversation its queue must be one the
    /// agent serves; to act in one the agent must hold it. Admins may go beyond it, and each time
    /// they do the audit log records it. Replies are held to the same rule where they are stored
    /// (<see cref="AppendGuard"/>), under the conversation's lock.
    /// </summary>
    private async Task<Agents.Agent> AuthorizeAsync(AgentCaller agent, Conversation conversation, AgentAction action, CancellationToken cancellationToken)
    {
        var me = await agentStore.GetAgentAsync(agent.AgentId, cancellationToken)
            ?? throw new ParleyException(ErrorCodes.Unauthorized, "The agent no longer exists.", StatusCodes.Status401Unauthorized);
        var refusal = action switch
        {
            AgentAction.Take when !me.Serves(conversation.Queue) =>
                new ParleyException(ErrorCodes.NotInQueue, "This conversation is in a queue you do not serve.", StatusCodes.Status403Forbidden),
            AgentAction.Act when conversation.AssignedAgentId != agent.AgentId =>
                new ParleyException(ErrorCodes.NotAssigned, conversation.AssignedAgentId is null
                    ? "No agent has this conversation yet: accept it first."
                    : "Another agent has this conversation.", StatusCodes.Status409Conflict),
            _ => null,
        };
        if (refusal is null)
        {
            return me;
        }

        if (me.Role != Agents.AgentRole.Admin)
        {
            throw refusal;
        }

        await audit.RecordAsync(agent.TenantId, Audit.AuditKinds.AdminOverride, Audit.AuditEvent.Succeeded, agent, conversation.DeploymentId, conversation.Id,
            reason: refusal.Code, detail: action == AgentAction.Take ? "an admin took a conversation outside their queues" : "an admin acted in a conversation they do not hold");
        return me;
    }

    private static SystemEvent By(Caller caller, string eventName) => new(eventName, caller.Role, caller.ParticipantId);

    private async Task<Conversation> ChangedAsync(Guid conversationId, SystemEvent? happened, CancellationToken cancellationToken) =>
        await lifecycle.ChangedAsync(conversationId, happened, cancellationToken) ?? throw ParleyException.NotFound("The conversation");

    private static EngagementAttributes? ValidateAttributes(IReadOnlyDictionary<string, string>? attributes)
    {
        if (attributes is null)
        {
            return null;
        }

        return EngagementAttributes.Validate(attributes) is { } problem
            ? throw ParleyException.Invalid(problem)
            : new EngagementAttributes(attributes.ToDictionary());
    }

}
