namespace Parley.Routing;

/// <summary>One routing rule: when <see cref="Condition"/> holds, the conversation goes to <see cref="Queue"/> with <see cref="Priority"/> (higher first).</summary>
public sealed record RoutingRule(string Name, string Condition, string Queue, int Priority = 0);

/// <summary>Where a conversation goes, and which rule sent it there (null: the default queue).</summary>
public sealed record RoutingDecision(string Queue, int Priority, string? Rule);

/// <summary>
/// A tenant's ordered routing rules, compiled. The first rule whose condition holds decides;
/// when none does, the conversation goes to the default queue with priority 0.
/// </summary>
public sealed class RoutingRules
{
    public const string DefaultQueue = "default";
    public const int MaxRules = 200;
    private readonly IReadOnlyList<(RoutingRule Rule, RoutingCondition Condition)> _rules;

    private RoutingRules(IReadOnlyList<(RoutingRule, RoutingCondition)> rules, string defaultQueue)
    {
        _rules = rules;
        DefaultQueueName = defaultQueue;
    }

    public string DefaultQueueName { get; }

    /// <summary>
    /// Checks and compiles rules. Throws <see cref="RoutingRulesException"/> naming the first bad
    /// rule and, for a condition, the character where it goes wrong.
    /// </summary>
    public static RoutingRules Compile(IReadOnlyList<RoutingRule> rules, string defaultQueue = DefaultQueue)
    {
        if (!IsQueueName(defaultQueue))
        {
            throw new RoutingRulesException("defaultQueue must be 1 to 64 letters, digits, '-' or '_'.", null, null);
        }

        if (rules.Count > MaxRules)
        {
            throw new RoutingRulesException($"At most {MaxRules} rules.", null, null);
        }

        var compiled = new List<(RoutingRule, RoutingCondition)>(rules.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            if (rule is null || string.IsNullOrWhiteSpace(rule.Name) || rule.Name.Length > 100)
            {
                throw new RoutingRulesException($"rules[{i}].name is required (1 to 100 characters).", i, null);
            }

            if (!names.Add(rule.Name))
            {
                throw new RoutingRulesException($"rules[{i}].name \"{rule.Name}\" is used by an earlier rule.", i, null);
            }

            if (!IsQueueName(rule.Queue))
            {
                throw new RoutingRulesException($"rules[{i}].queue must be 1 to 64 letters, digits, '-' or '_'.", i, null);
            }

            if (rule.Priority is < -1000 or > 1000)
            {
                throw new RoutingRulesException($"rules[{i}].priority is -1000 to 1000.", i, null);
            }

            try
            {
                compiled.Add((rule, RoutingCondition.Parse(rule.Condition ?? "")));
            }
            catch (RoutingSyntaxException syntax)
            {
                throw new RoutingRulesException($"rules[{i}].condition: {syntax.Message}", i, syntax.Position);
            }
        }

        return new RoutingRules(compiled, defaultQueue);
    }

    public RoutingDecision Route(RoutingFacts facts)
    {
        foreach (var (rule, condition) in _rules)
        {
            if (condition.Matches(facts))
            {
                return new RoutingDecision(rule.Queue, rule.Priority, rule.Name);
            }
        }

        return new RoutingDecision(DefaultQueueName, 0, null);
    }

    public static bool IsQueueName(string? name) =>
        name is { Length: > 0 and <= 64 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}

/// <summary>Rules that cannot be saved: which rule (index) and, for a condition, the 0-based character position.</summary>
public sealed class RoutingRulesException(string message, int? rule, int? position) : Exception(message)
{
    public int? Rule { get; } = rule;

    public int? Position { get; } = position;
}
