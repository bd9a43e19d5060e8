using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// The OpenAPI 3.1 document Parley generates from its endpoints is valid, describes the one error
/// shape and the bearer tokens, and lists exactly the endpoints docs/api.md documents.
/// </summary>
public sealed partial class ApiDescriptionTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private TestServer Server => fixture.Server;

    [GeneratedRegex(@"\{[^}]+\}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex Parameter();

    [GeneratedRegex(@"(/(?:api/v1|auth)/[A-Za-z0-9_.{}/-]+|/healthz|/readyz)")]
    private static partial Regex DocumentedPath();

    private static string Normalized(string path) => Parameter().Replace(path.TrimEnd('/', '.'), "{}");

    private async Task<string> DocumentAsync()
    {
        var response = await Server.Http.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task The_generated_document_is_valid_openapi_3_1_with_the_problem_shape_and_bearer_tokens()
    {
        var text = await DocumentAsync();
        var (document, diagnostic) = OpenApiDocument.Parse(text, "json", new OpenApiReaderSettings());
        Assert.NotNull(document);
        Assert.Empty(diagnostic!.Errors);
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, diagnostic.SpecificationVersion);
        Assert.Empty(document.Validate(ValidationRuleSet.GetDefaultRuleSet()) ?? []);

        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        var problem = root.GetProperty("components").GetProperty("schemas").GetProperty("Problem");
        Assert.Contains("code", problem.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("bearer", root.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var error = operation.Value.GetProperty("responses").GetProperty("default").GetProperty("content").GetProperty("application/problem+json");
                Assert.Equal("#/components/schemas/Problem", error.GetProperty("schema").GetProperty("$ref").GetString());
            }
        }

        // An agent route needs a token; the visitor's session route does not.
        Assert.True(root.GetProperty("paths").GetProperty("/api/v1/agent/me").GetProperty("get").TryGetProperty("security", out _));
        Assert.False(root.GetProperty("paths").GetProperty("/api/v1/sessions").GetProperty("post").TryGetProperty("security", out _));
    }

    [Fact]
    public async Task Every_endpoint_in_the_document_is_in_docs_api_md_and_every_documented_endpoint_exists()
    {
        using var json = JsonDocument.Parse(await DocumentAsync());
        var generated = json.RootElement.GetProperty("paths").EnumerateObject().Select(p => Normalized(p.Name)).ToHashSet();
        var text = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "docs", "api.md"));
        var documented = DocumentedPath().Matches(text)
            .Where(m => m.Index + m.Length == text.Length || text[m.Index + m.Length] != '…') // "/api/v1/admin/…" names a family, not an endpoint
            .Select(m => Normalized(m.Value)).ToHashSet();

        Assert.Empty(generated.Except(documented).Order());
        Assert.Empty(documented.Except(generated).Order());
    }
}
