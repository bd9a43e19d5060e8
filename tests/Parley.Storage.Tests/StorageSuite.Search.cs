using Parley.Consumers;
using Parley.Conversations;
using Parley.Tenants;

namespace Parley.Storage.Tests;

public abstract partial class StorageSuite
{
    [Fact]
    public async Task Deployments_are_listed_per_tenant_and_their_origins_replaced()
    {
        var (acme, web) = await NewTenantAsync("Acme");
        var (_, foreign) = await NewTenantAsync("Globex");
        var app = new Deployment(Guid.NewGuid(), acme.Id, "app", ["https://app.acme.example"], T0);
        await Store.CreateDeploymentAsync(app, Ct);

        await Store.SetDeploymentOriginsAsync(web.Id, ["https://www.acme.example", "http://localhost:3000"], Ct);

        var listed = await Store.ListDeploymentsAsync(acme.Id, Ct);
        Assert.Equal(["app", "web"], listed.Select(d => d.Name));
        Assert.DoesNotContain(listed, d => d.Id == foreign.Id);
        Assert.Equal(["https://www.acme.example", "http://localhost:3000"], listed[1].AllowedOrigins);
    }

    [Fact]
    public async Task Search_matches_text_consumer_attribute_and_dates_within_the_tenant()
    {
        var (acme, deployment) = await NewTenantAsync("Acme");
        var (_, globexDeployment) = await NewTenantAsync("Globex");
        var ada = await Store.GetOrCreateAuthenticatedConsumerAsync(acme.Id, "https://idp.acme", "ada-1", T0, Ct);
        await Store.SaveVerifiedIdentityAsync(new VerifiedIdentity(
            ada.Id, "https://idp.acme", "ada-1", new Dictionary<string, string> { ["email"] = "Ada@Example.com", ["given_name"] = "Ada" },
            new Dictionary<string, string>(), null, T0, T0.AddHours(1)), Ct);

        var adas = await NewConversationAsync(deployment, ada);
        var anonymous = await NewConversationAsync(deployment);
        var foreign = await NewConversationAsync(globexDeployment);
        await Store.SetEngagementAttributesAsync(anonymous.Id, new EngagementAttributes(new Dictionary<string, string> { ["cart"] = "149.00", ["page"] = "/Pricing" }), T0, Ct);
        await Store.AppendMessagesAsync([Text(adas.Id, ada.Id, "a1", "Where is my REFUND for order 100%_off?")], Ct);
        await Store.AppendMessagesAsync([Text(anonymous.Id, anonymous.ConsumerId, "n1", "no wildcards here")], Ct);
        await Store.AppendMessagesAsync([Text(foreign.Id, foreign.ConsumerId, "f1", "where is my refund")], Ct);

        async Task<IEnumerable<Guid>> Find(ConversationSearch search) => (await Store.SearchConversationsAsync(acme.Id, search, Ct)).Select(c => c.Id);

        Assert.Equal([adas.Id], await Find(new(Text: "refund")));
        Assert.Equal([adas.Id], await Find(new(Text: "100%_off")));
        Assert.Empty(await Find(new(Text: "100%%")));
        Assert.Equal([adas.Id], await Find(new(Text: "_"))); // a wildcard in LIKE, taken literally
        Assert.Equal([adas.Id], await Find(new(Consumer: "ada@example")));
        Assert.Equal([adas.Id], await Find(new(Consumer: "ada-1")));
        Assert.Equal([anonymous.Id], await Find(new(Consumer: anonymous.ConsumerId.ToString())));
        Assert.Empty(await Find(new(Consumer: foreign.ConsumerId.ToString())));
        Assert.Equal([anonymous.Id], await Find(new(AttributeName: "page", AttributeValue: "/pricing")));
        Assert.Empty(await Find(new(AttributeName: "page", AttributeValue: "/prici")));
        Assert.Empty(await Find(new(AttributeName: "nope", AttributeValue: "x")));
        Assert.Equal(2, (await Find(new(From: T0, To: T0.AddSeconds(1)))).Count());
        Assert.Empty(await Find(new(From: T0.AddSeconds(1))));
        Assert.Empty(await Find(new(Text: "refund", Consumer: anonymous.ConsumerId.ToString())));
        Assert.Single(await Find(new(Limit: 1)));

        var agent = await NewAgentAsync(acme.Id, "ana@acme.example");
        Assert.Equal(AssignOutcome.Assigned, await Store.TryAssignConversationAsync(anonymous.Id, agent.Id, T0, Ct));
        Assert.Equal([anonymous.Id], await Find(new(AssignedAgentId: agent.Id, Status: ConversationStatus.Open)));
    }
}
