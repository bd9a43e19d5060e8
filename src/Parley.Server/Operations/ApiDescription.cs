using Microsoft.OpenApi;

namespace Parley.Operations;

/// <summary>
/// The machine-readable description of Parley's REST API: an OpenAPI 3.1 document generated from
/// the endpoints themselves at <see cref="DocumentPath"/>, with the bearer tokens Parley takes and
/// the one error shape every endpoint answers with (RFC 9457 problem details plus Parley's
/// stable <c>code</c>). The demo brand's pages are not part of the API and are left out.
/// </summary>
public static class ApiDescription
{
    public const string DocumentPath = "/openapi/v1.json";

    private const string Problem = "Problem";
    private const string Bearer = "bearer";

    public static IServiceCollection AddApiDescription(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.ShouldInclude = description => description.RelativePath is { } path
                && (path.StartsWith("api/", StringComparison.Ordinal) || path.StartsWith("auth/", StringComparison.Ordinal) || path is "healthz" or "readyz");
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Parley",
                    Version = "v1",
                    Description = "Authenticated web messaging for customer service: the visitor, agent and admin REST API (docs/api.md). "
                        + "The WebSocket protocol is described in docs/protocol.md and src/Parley.Client/protocol/frames.schema.json.",
                    License = new OpenApiLicense { Name = "Apache-2.0", Identifier = "Apache-2.0" },
                };
                document.Components ??= new OpenApiComponents();
                document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
                document.Components.Schemas[Problem] = ProblemSchema();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A visitor token (pvt_…, from POST /api/v1/sessions) or an agent token (pat_…, from POST /api/v1/agent/login).",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                // Every endpoint answers errors the same way: say so once, by reference.
                operation.Responses ??= new OpenApiResponses();
                operation.Responses["default"] = new OpenApiResponse
                {
                    Description = "An error: the HTTP status, a stable code (docs/api.md) and a detail a developer can act on.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(Problem, context.Document) },
                    },
                };
                var anonymous = context.Description.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any();
                var authorized = context.Description.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any();
                if (authorized && !anonymous)
                {
                    operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] }];
                }

                return Task.CompletedTask;
            });
        });

    public static IEndpointRouteBuilder MapApiDescription(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        return app;
    }

    private static OpenApiSchema ProblemSchema() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "RFC 9457 problem details with Parley's stable error code.",
        Required = new HashSet<string> { "status", "code" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The code again, for generic clients." },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What went wrong and what to change. Never a secret or a message body." },
            ["code"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "A stable error code: invalid_request, not_found, unauthorized, forbidden, rate_limited, authentication_expired, "
                    + "an OAuth error (invalid_token, invalid_grant, …), and the others docs/api.md lists.",
            },
            ["retryable"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "Present and true when the same request may succeed later." },
            ["failedCheck"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "For a refused token: the check it failed." },
        },
    };
}
