using Parley.Conversations;
using System.Text.Json.Nodes;
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
    /// <summary>
    /// Stores a new conversation and publishes it. Null, telling nobody, when its consumer already
    /// has an open conversation on the deployment (opened meanwhile on another device or node).
    /// </summary>
    public async Task<Conversation?> CreateAsync(Conversation conversation, CancellationToken cancellationToken)
    {
        if (!await conversationStore.CreateConversationAsync(conversation, cancellationToken))
        {
            return null;
        }

        fanout.Publish(new ConversationChanged(conversation));
        return conversation;
    }

    /// <summary>
    /// Merges one open conversation of a consumer into another (see
    /// <see cref="IConversationStore.MergeConversationAsync"/>): the copies reach the survivor's
    /// watchers as messages, both conversations record <see cref="SystemEvents.ConversationMerged"/>
    /// (the closed one naming <c>into</c>, the survivor naming <c>from</c> and how many
    /// <c>messages</c> it got), and both are published. Null when the store refused the merge.
    /// </summary>
    public async Task<(Conversation Into, MergeResult Merge)?> MergeAsync(
        Conversation from, Guid intoId, CancellationToken cancellationToken)
    {
        if (await conversationStore.MergeConversationAsync(from.Id, from.ConsumerId, intoId, time.GetUtcNow(), cancellationToken) is not { } merge)
        {
            return null;
        }

        foreach (var copy in merge.Copied)
        {
            fanout.Publish(new MessageStored(from.TenantId, copy));
        }

        await ChangedAsync(from.Id, SystemEvent.OfSystem(SystemEvents.ConversationMerged, new JsonObject { ["into"] = intoId.ToString() }), cancellationToken);
        var into = await ChangedAsync(intoId, SystemEvent.OfSystem(SystemEvents.ConversationMerged,
            new JsonObject { ["from"] = from.Id.ToString(), ["messages"] = merge.Copied.Count }), cancellationToken);
        return into is null ? null : (into, merge);
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
