using System.Reflection;
using Parley.Audit;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>The reference docs name every audit kind and every error code the server has, so a new one cannot go undocumented.</summary>
public sealed class ReferenceDocsTests
{
    private static IEnumerable<string> Constants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!);

    private static string Doc(string name) => File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", name));

    [Fact]
    public void Every_audit_kind_is_in_the_api_docs_audit_section()
    {
        var api = Doc("api.md");
        var section = api[api.IndexOf("## Admins: the audit log", StringComparison.Ordinal)..api.IndexOf("## Admins: routing", StringComparison.Ordinal)];
        // Named in backticks, alone or as `prefix.a|b|c`.
        var named = System.Text.RegularExpressions.Regex.Matches(section, "`([a-z_]+)\\.([a-z_|]+)`")
            .SelectMany(m => m.Groups[2].Value.Split('|').Select(last => m.Groups[1].Value + "." + last))
            .ToHashSet(StringComparer.Ordinal);
        var missing = Constants(typeof(AuditKinds)).Where(kind => !named.Contains(kind));
        Assert.Equal("", string.Join(", ", missing));
    }

    [Fact]
    public void Every_error_code_is_in_the_api_or_protocol_docs()
    {
        var docs = Doc("api.md") + Doc("protocol.md");
        Assert.Equal("", string.Join(", ", Constants(typeof(ErrorCodes)).Where(code => !docs.Contains($"`{code}`", StringComparison.Ordinal))));
    }
}
