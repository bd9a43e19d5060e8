using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Parley.Storage;

/// <summary>Fan-out within one process (a single node).</summary>
public sealed class InProcessFanout : ILiveFanout
{
    private readonly ConcurrentDictionary<Guid, ImmutableHashSet<ILiveSubscriber>> _conversations = new();
    private readonly ConcurrentDictionary<Guid, ImmutableHashSet<ILiveSubscriber>> _tenants = new();
    private readonly ConcurrentDictionary<Guid, ImmutableHashSet<ILiveSubscriber>> _participants = new();

    public IDisposable SubscribeConversation(Guid conversationId, ILiveSubscriber subscriber) =>
        Add(_conversations, conversationId, subscriber);

    public IDisposable SubscribeTenant(Guid tenantId, ILiveSubscriber subscriber) => Add(_tenants, tenantId, subscriber);

    public IDisposable SubscribeParticipant(Guid participantId, ILiveSubscriber subscriber) => Add(_participants, participantId, subscriber);

    /// <summary>True when a connection here watches the conversation.</summary>
    public bool Watches(Guid conversationId) => _conversations.ContainsKey(conversationId);

    /// <summary>True when a connection here watches the tenant's conversation list.</summary>
    public bool WatchesTenant(Guid tenantId) => _tenants.ContainsKey(tenantId);

    /// <summary>The conversations some connection here watches.</summary>
    public IReadOnlyCollection<Guid> WatchedConversations => [.. _conversations.Keys];

    public void Publish(LiveEvent liveEvent)
    {
        if (liveEvent is SessionEnded ended)
        {
            if (_participants.TryGetValue(ended.ParticipantId, out var holders))
            {
                foreach (var subscriber in holders)
                {
                    subscriber.OnEvent(ended);
                }
            }

            return;
        }

        if (_conversations.TryGetValue(liveEvent.ConversationId, out var watchers))
        {
            foreach (var subscriber in watchers)
            {
                subscriber.OnEvent(liveEvent);
            }
        }

        if (liveEvent is ConversationChanged && _tenants.TryGetValue(liveEvent.TenantId, out var tenantWatchers))
        {
            foreach (var subscriber in tenantWatchers.Except(watchers ?? []))
            {
                subscriber.OnEvent(liveEvent);
            }
        }
    }

    private static Subscription Add(
        ConcurrentDictionary<Guid, ImmutableHashSet<ILiveSubscriber>> map, Guid key, ILiveSubscriber subscriber)
    {
        map.AddOrUpdate(key, _ => [subscriber], (_, set) => set.Add(subscriber));
        return new Subscription(() =>
        {
            while (map.TryGetValue(key, out var set))
            {
                var smaller = set.Remove(subscriber);
                var done = smaller.IsEmpty
                    ? map.TryRemove(new KeyValuePair<Guid, ImmutableHashSet<ILiveSubscriber>>(key, set))
                    : map.TryUpdate(key, smaller, set);
                if (done)
                {
                    return;
                }
            }
        });
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
