namespace Parley.Routing;

/// <summary>A queue agents can serve. <see cref="DisplayName"/> is what the agent console shows.</summary>
public sealed record QueueDefinition(string Name, string? DisplayName = null);

/// <summary>
/// A tenant's routing: its queues, the ordered rules that pick a queue and priority for each
/// conversation, the queue when no rule matches, whether Parley assigns conversations to agents
/// itself, and how long a disconnected agent keeps their conversations.
/// </summary>
public sealed record RoutingConfiguration
{
    public const int MaxQueues = 100;
    public const int MaxGraceSeconds = 3600;

    public IReadOnlyList<QueueDefinition> Queues { get; init; } = [new(RoutingRules.DefaultQueue, "Default")];

    public string DefaultQueue { get; init; } = RoutingRules.DefaultQueue;

    public IReadOnlyList<RoutingRule> Rules { get; init; } = [];

    /// <summary>Assign waiting conversations to the least-loaded connected agent of the queue, within capacity.</summary>
    public bool AutoAssign { get; init; }

    /// <summary>How long an agent may be disconnected before their open conversations go back to their queues.</summary>
    public int DisconnectGraceSeconds { get; init; } = 60;

    /// <summary>What a tenant that never saved a configuration gets: one queue, no rules, manual assignment.</summary>
    public static RoutingConfiguration Default { get; } = new();

    /// <summary>
    /// Checks the whole configuration and compiles its rules. Throws <see cref="RoutingRulesException"/>
    /// naming the first problem (and, for a condition, the character where it goes wrong).
    /// </summary>
    public RoutingRules Compile()
    {
        if (Queues is null || Queues.Count is 0 or > MaxQueues)
        {
            throw new RoutingRulesException($"queues must list 1 to {MaxQueues} queues.", null, null);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Queues.Count; i++)
        {
            var queue = Queues[i];
            if (queue is null || !RoutingRules.IsQueueName(queue.Name))
            {
                throw new RoutingRulesException($"queues[{i}].name must be 1 to 64 letters, digits, '-' or '_'.", null, null);
            }

            if (queue.DisplayName is { Length: > 100 })
            {
                throw new RoutingRulesException($"queues[{i}].displayName is longer than 100 characters.", null, null);
            }

            if (!names.Add(queue.Name))
            {
                throw new RoutingRulesException($"queues[{i}].name \"{queue.Name}\" is listed twice.", null, null);
            }
        }

        if (DisconnectGraceSeconds is < 0 or > MaxGraceSeconds)
        {
            throw new RoutingRulesException($"disconnectGraceSeconds is 0 to {MaxGraceSeconds}.", null, null);
        }

        var rules = RoutingRules.Compile(Rules ?? [], DefaultQueue);
        if (!names.Contains(DefaultQueue))
        {
            throw new RoutingRulesException($"defaultQueue \"{DefaultQueue}\" is not one of the queues.", null, null);
        }

        for (var i = 0; i < Rules!.Count; i++)
        {
            if (!names.Contains(Rules[i].Queue))
            {
                throw new RoutingRulesException($"rules[{i}].queue \"{Rules[i].Queue}\" is not one of the queues.", i, null);
            }
        }

        return rules;
    }

    public bool HasQueue(string name) => Queues.Any(q => string.Equals(q.Name, name, StringComparison.Ordinal));
}
