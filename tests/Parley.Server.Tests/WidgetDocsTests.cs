using Parley.Demo;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>docs/widget.md shows the brand functions the browser tests run on the demo pages, not a copy that drifted.</summary>
public sealed class WidgetDocsTests
{
    private static string Lines(string text) =>
        string.Join('\n', text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));

    [Theory]
    [InlineData(nameof(DemoBrandEndpoints.TokenFunction))]
    [InlineData(nameof(DemoBrandEndpoints.CodeFunction))]
    public void The_documented_brand_function_is_the_one_the_demo_pages_run(string name)
    {
        var demo = name == nameof(DemoBrandEndpoints.TokenFunction) ? DemoBrandEndpoints.TokenFunction : DemoBrandEndpoints.CodeFunction;
        var docs = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "widget.md"));
        Assert.Contains(Lines(demo), Lines(docs), StringComparison.Ordinal);
    }
}
