using Parley.Bots;

namespace Parley.Domain.Tests;

public sealed class BotSettingsTests
{
    private static readonly BotSettings Bot = new()
    {
        Cases =
        [
            new BotCase("Statement copy", ["statement", "bank statement"], "On its way.", RequiresAuthentication: true),
            new BotCase("Opening hours", ["hours", "open"], "9 to 5."),
        ],
    };

    [Theory]
    [InlineData("Can I get a STATEMENT, please?", "Statement copy")]
    [InlineData("bank-statement", "Statement copy")]
    [InlineData("Are you open on Sunday?", "Opening hours")]
    [InlineData("statements are great", null)]
    [InlineData("reopen my account", null)]
    [InlineData("", null)]
    public void Keywords_match_whole_words_in_any_case_and_the_first_case_wins(string text, string? expected) =>
        Assert.Equal(expected, Bot.Match(text)?.Name);

    [Fact]
    public void Invalid_settings_name_the_case_at_fault()
    {
        Assert.Null(Bot.Validate());
        Assert.StartsWith("cases[1].name", (Bot with { Cases = [Bot.Cases[0], Bot.Cases[0]] }).Validate(), StringComparison.Ordinal);
        Assert.StartsWith("cases[0].keywords", new BotSettings { Cases = [new BotCase("A", ["?!"], "x")] }.Validate(), StringComparison.Ordinal);
        Assert.StartsWith("cases[0] needs an answer", new BotSettings { Cases = [new BotCase("A", ["a"], null)] }.Validate(), StringComparison.Ordinal);
        Assert.Null(new BotSettings { Cases = [new BotCase("A", ["a"], null, HandOver: true)] }.Validate());
    }

    [Fact]
    public void A_case_may_ask_for_an_assurance_level_and_a_login_age_which_imply_a_login()
    {
        var transfer = new BotCase("Transfer", ["transfer"], "Done.", Acr: "urn:brand:loa:2 urn:brand:loa:3", MaxLoginAgeSeconds: 300);
        Assert.Null(new BotSettings { Cases = [transfer] }.Validate());
        Assert.True(transfer.NeedsLogin);
        Assert.False(Bot.Cases[1].NeedsLogin);
        Assert.StartsWith("cases[0].acr", new BotSettings { Cases = [transfer with { Acr = " " }] }.Validate(), StringComparison.Ordinal);
        Assert.StartsWith("cases[0].acr", new BotSettings { Cases = [transfer with { Acr = "a\u0001" }] }.Validate(), StringComparison.Ordinal);
        Assert.StartsWith("cases[0].maxLoginAgeSeconds", new BotSettings { Cases = [transfer with { MaxLoginAgeSeconds = -1 }] }.Validate(), StringComparison.Ordinal);

        var now = DateTimeOffset.UnixEpoch.AddYears(56);
        var assurance = transfer.Assurance!;
        Assert.Null(assurance.Shortfall("urn:brand:loa:3", now.AddMinutes(-4), now, TimeSpan.Zero));
        Assert.Equal("acr", assurance.Shortfall("urn:brand:loa:1", now, now, TimeSpan.Zero));
        Assert.Equal("acr", assurance.Shortfall(null, now, now, TimeSpan.Zero));
        Assert.Equal("auth_time", assurance.Shortfall("urn:brand:loa:2", now.AddMinutes(-6), now, TimeSpan.Zero));
        Assert.Null(assurance.Shortfall("urn:brand:loa:2", now.AddMinutes(-6), now, TimeSpan.FromMinutes(2)));
        Assert.Equal("auth_time", assurance.Shortfall("urn:brand:loa:2", null, now, TimeSpan.Zero));
    }
}
