using FsCheck;
using FsCheck.Fluent;
using Parley.Routing;

namespace Parley.Domain.Tests;

/// <summary>Routing conditions and rules: what they match, what they refuse to compile, and where.</summary>
public sealed class RoutingTests
{
    private static readonly Guid Deployment = Guid.Parse("7a3c0000-0000-4000-8000-0000000000d2");

    private static RoutingFacts Facts(
        bool authenticated = false,
        Dictionary<string, string>? claims = null,
        Dictionary<string, string>? context = null,
        Dictionary<string, string>? attributes = null,
        string? botCase = null) =>
        new(authenticated, claims ?? [], context ?? [], attributes ?? [], botCase, Deployment);

    private static bool Matches(string condition, RoutingFacts facts) => RoutingCondition.Parse(condition).Matches(facts);

    public static TheoryData<string, bool> VipCases => new()
    {
        { "context.msdyn_isvip == \"true\"", true },
        { "context.msdyn_cartvalue > 1000", true },
        { "context.msdyn_cartvalue >= 1500.5", true },
        { "context.msdyn_cartvalue > 1500.5", false },
        { "context.msdyn_cartvalue < 1000", false },
        { "context.msdyn_isvip exists", true },
        { "context.missing exists", false },
        { "not context.missing exists", true },
        { "context.missing != \"x\"", true },
        { "context.missing == \"x\"", false },
        { "context.msdyn_isvip > 1", false },
        { "context.msdyn_isvip != 1", true },
        { "authenticated and context.msdyn_isvip == \"true\"", true },
        { "authenticated and (context.msdyn_cartvalue > 5000 or claim.email == \"ada@example.com\")", true },
        { "not authenticated or false", false },
        { "claim.email == \"ADA@example.com\"", false },
        { "case == \"Statement copy\"", true },
        { "case != \"Statement copy\"", false },
        { "deployment == \"7A3C0000-0000-4000-8000-0000000000D2\"", true },
        { "true and not (false or false)", true },
    };

    [Theory]
    [MemberData(nameof(VipCases))]
    public void Conditions_read_verified_facts(string condition, bool expected)
    {
        var facts = Facts(
            authenticated: true,
            claims: new() { ["email"] = "ada@example.com" },
            context: new() { ["msdyn_isvip"] = "true", ["msdyn_cartvalue"] = "1500.5" },
            botCase: "Statement copy");
        Assert.Equal(expected, Matches(condition, facts));
    }

    [Fact]
    public void Unverified_page_attributes_never_satisfy_a_verified_condition()
    {
        // The page claims VIP status, a big cart, an email and even a forged lwicontexts: none of it is verified.
        var forged = Facts(attributes: new()
        {
            ["msdyn_isvip"] = "true",
            ["msdyn_cartvalue"] = "99999",
            ["email"] = "ada@example.com",
            ["lwicontexts"] = "{\"msdyn_isvip\":\"true\"}",
        });
        Assert.False(Matches("context.msdyn_isvip == \"true\"", forged));
        Assert.False(Matches("context.msdyn_cartvalue > 1000", forged));
        Assert.False(Matches("claim.email exists", forged));
        Assert.False(Matches("authenticated", forged));
        Assert.True(Matches("attribute.msdyn_isvip == \"true\"", forged));
        Assert.True(Matches("attribute.msdyn_cartvalue > 1000", forged));
    }

    [Fact]
    public void For_any_facts_a_verified_condition_ignores_the_attributes()
    {
        var conditions = new[] { "context.tier == \"gold\"", "context.cart > 100", "claim.email exists", "authenticated and context.tier exists" }
            .Select(RoutingCondition.Parse).ToList();
        Prop.ForAll(
            ArbMap.Default.ArbFor<string>(), ArbMap.Default.ArbFor<string>(), ArbMap.Default.ArbFor<bool>(),
            (tier, cart, authenticated) =>
            {
                var verified = new Dictionary<string, string> { ["tier"] = tier ?? "", ["cart"] = cart ?? "" };
                var baseline = Facts(authenticated, context: verified);
                var withPageData = Facts(authenticated, context: verified, attributes: new()
                {
                    ["tier"] = "gold", ["cart"] = "100000", ["email"] = "x@example.com",
                });
                return conditions.All(c => c.Matches(baseline) == c.Matches(withPageData));
            }).QuickCheckThrowOnFailure();
    }

    public static TheoryData<string, int, string> SyntaxErrors => new()
    {
        { "context.cart >", 14, "Expected a value" },
        { "context.cart > \"100\"", 13, "compares numbers" },
        { "context.tier = \"gold\"", 13, "Expected an operator" },
        { "tier == \"gold\"", 0, "Unknown name \"tier\"" },
        { "context == \"x\"", 8, "Expected \".\"" },
        { "context. == \"x\"", 8, "Expected a name" },
        { "(authenticated", 14, "Expected \")\"" },
        { "authenticated context.x exists", 14, "expected \"and\", \"or\"" },
        { "case == 3", 8, "\"double-quoted\" name" },
        { "context.x == \"open", 13, "not closed" },
        { "", 0, "ends too early" },
        { "authenticated and", 17, "ends too early" },
    };

    [Theory]
    [MemberData(nameof(SyntaxErrors))]
    public void Invalid_conditions_are_refused_with_the_position_of_the_error(string condition, int position, string message)
    {
        var error = Assert.Throws<RoutingSyntaxException>(() => RoutingCondition.Parse(condition));
        Assert.Equal(position, error.Position);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_first_matching_rule_decides_and_the_default_queue_takes_the_rest()
    {
        var rules = RoutingRules.Compile(
        [
            new RoutingRule("VIP", "authenticated and context.msdyn_isvip == \"true\"", "vip", 100),
            new RoutingRule("Big cart", "context.msdyn_cartvalue > 1000", "sales", 50),
            new RoutingRule("Logged in", "authenticated", "authenticated", 10),
        ], defaultQueue: "anonymous");

        var vip = Facts(authenticated: true, context: new() { ["msdyn_isvip"] = "true", ["msdyn_cartvalue"] = "5000" });
        Assert.Equal(new RoutingDecision("vip", 100, "VIP"), rules.Route(vip));
        Assert.Equal(new RoutingDecision("sales", 50, "Big cart"), rules.Route(Facts(authenticated: true, context: new() { ["msdyn_cartvalue"] = "5000" })));
        Assert.Equal(new RoutingDecision("authenticated", 10, "Logged in"), rules.Route(Facts(authenticated: true)));
        Assert.Equal(new RoutingDecision("anonymous", 0, null), rules.Route(Facts(attributes: new() { ["msdyn_isvip"] = "true" })));
    }

    [Fact]
    public void Invalid_rules_are_refused_naming_the_rule_and_the_position()
    {
        var error = Assert.Throws<RoutingRulesException>(() => RoutingRules.Compile(
        [
            new RoutingRule("ok", "authenticated", "vip"),
            new RoutingRule("bad", "authenticated and context.cart >> 3", "sales"),
        ]));
        Assert.Equal(1, error.Rule);
        Assert.Equal(32, error.Position); // the second ">"
        Assert.StartsWith("rules[1].condition:", error.Message, StringComparison.Ordinal);

        Assert.Equal(1, Assert.Throws<RoutingRulesException>(() => RoutingRules.Compile(
            [new RoutingRule("a", "true", "q"), new RoutingRule("a", "true", "q")])).Rule);
        Assert.Contains("queue", Assert.Throws<RoutingRulesException>(() => RoutingRules.Compile(
            [new RoutingRule("a", "true", "no spaces")])).Message, StringComparison.Ordinal);
    }

    /// <summary>The error table of docs/routing.md, word for word.</summary>
    [Theory]
    [InlineData("context.cart > \"100\"", "rules[0].condition: \">\" compares numbers; compare text with == or !=. (at character 14)")]
    [InlineData("context.tier = \"gold\"", "rules[0].condition: Expected an operator (==, !=, >, >=, <, <=) or \"exists\". (at character 14)")]
    [InlineData("tier == \"gold\"", "rules[0].condition: Unknown name \"tier\"; use authenticated, claim.NAME, context.NAME, attribute.NAME, case or deployment. (at character 1)")]
    [InlineData("authenticated and context.cart >> 3", "rules[0].condition: Expected a value: a \"double-quoted string\" or a number. (at character 33)")]
    public void The_documented_errors_are_the_ones_given(string condition, string message) =>
        Assert.Equal(message, Assert.Throws<RoutingRulesException>(() => RoutingRules.Compile([new RoutingRule("r", condition, "q")])).Message);

    [Fact]
    public void The_documented_examples_compile()
    {
        var examples = File.ReadAllText(Path.Combine(Parley.Testing.RepositoryPaths.Root, "docs", "routing.md"))
            .Split("```text\n")[1].Split("```")[0].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, examples.Length);
        Assert.All(examples, e => RoutingCondition.Parse(e));
    }

    [Fact]
    public void A_configuration_names_every_queue_its_rules_and_default_use()
    {
        var valid = new RoutingConfiguration
        {
            Queues = [new("vip", "VIP"), new("anonymous")],
            DefaultQueue = "anonymous",
            Rules = [new RoutingRule("VIP", "authenticated and context.vip == \"true\"", "vip", 100)],
        };
        Assert.Equal("vip", valid.Compile().Route(Facts(true, context: new() { ["vip"] = "true" })).Queue);
        Assert.Equal("default", RoutingConfiguration.Default.Compile().Route(Facts()).Queue);

        string Refusal(RoutingConfiguration c) => Assert.Throws<RoutingRulesException>(() => c.Compile()).Message;
        Assert.Equal("rules[0].queue \"vip\" is not one of the queues.", Refusal(valid with { Queues = [new("anonymous")] }));
        Assert.Equal("defaultQueue \"nowhere\" is not one of the queues.", Refusal(valid with { DefaultQueue = "nowhere" }));
        Assert.Equal("queues[1].name \"vip\" is listed twice.", Refusal(valid with { Queues = [new("vip"), new("vip"), new("anonymous")] }));
        Assert.Equal("queues must list 1 to 100 queues.", Refusal(valid with { Queues = [] }));
        Assert.StartsWith("queues[0].name must be", Refusal(valid with { Queues = [new("no spaces")] }), StringComparison.Ordinal);
        Assert.Equal("disconnectGraceSeconds is 0 to 3600.", Refusal(valid with { DisconnectGraceSeconds = -1 }));
        var broken = Assert.Throws<RoutingRulesException>(() => (valid with { Rules = [new RoutingRule("VIP", "context.vip ==", "vip")] }).Compile());
        Assert.Equal((0, 14), (broken.Rule, broken.Position));
    }
}
