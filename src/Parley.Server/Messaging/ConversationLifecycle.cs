using Parley.Conversations;
using Parley.Storage;

namespace Parley.Messaging;

/// <summary>
/// The one way a conversation changes: the change is stored, then its system event (if it has one)
/// is appended to the timeline, then the conversation as stored is published to its watchers on
/// every node. Every service that opens, assigns, routes, closes, resumes or upgrades a
/// conversation goes through here, so no change is stored without being told, or told twice
/// (an architecture test keeps <see cref="ConversationChanged"/> and event messages made only here).
/// </summary>
public sealed class ConversationLifecycle(IConversationStore conversationStore, MessageWriter writer, ILiveFanout fanout, TimeProvider time)
{
    /// <summary>Stores a new conversation and publishes it.</summary>
    public async Task<Conversation> CreateAsync(Conversation conversation, CancellationToken cancellationToken)
    {
        await conversationStore.CreateConversationAsync(conversation, cancellationToken);
        fanout.Publish(new ConversationChanged(conversation));
        return conversation;
    }

    /// <summary>
    /// Runs <paramref name="store"/>, which answers whether it changed anything; when it did, records
    /// <paramref name="happened"/> and publishes the conversation. Null when nothing changed (closing
    /// a closed conversation), so a repeated request tells nobody anything.
    /// </summary>
    public async Task<Conversation?> ChangeAsync(
        Guid conversationId, Func<CancellationToken, Task<bool>> store, SystemEvent? happened, CancellationToken cancellationToken) =>
        await store(cancellationToken) ? await ChangedAsync(conversationId, happened, cancellationToken) : null;

    /// <summary>
    /// For a change already stored by one statement whose outcome says more than yes or no (an
    /// assignment, a hand-back of an agent's conversations): records <paramref name="happened"/> and
    /// publishes. Null when the conversation no longer exists.
    /// </summary>
    public async Task<Conversation?> ChangedAsync(Guid conversationId, SystemEvent? happened, CancellationToken cancellationToken)
    {
        var changed = await conversationStore.GetConversationAsync(conversationId, cancellationToken);
        if (changed is not null && happened is not null)
        {
            // Read again after the event: what watchers get counts it in lastSeq.
            await RecordAsync(changed, happened, cancellationToken);
            changed = await conversationStore.GetConversationAsync(conversationId, cancellationToken);
        }

        if (changed is not null)
        {
            fanout.Publish(new ConversationChanged(changed));
        }

        return changed;
    }

    /// <summary>
    /// Appends an event that changes nothing else about the conversation (a login was asked for or
    /// ended). The event is a message: it reaches the watchers as one.
    /// </summary>
    public Task<AppendResult> RecordAsync(Conversation conversation, SystemEvent happened, CancellationToken cancellationToken) =>
        writer.AppendAsync(conversation.TenantId, new NewMessage(
            conversation.Id, MessageKind.Event, happened.By, happened.ById, null, happened.Name, time.GetUtcNow(), happened.Data?.ToJsonString()),
            cancellationToken);
}
