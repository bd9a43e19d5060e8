using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Parley.Storage;

namespace Parley.Operations;

public static partial class OperationsExtensions
{
    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<ParleyExceptionHandler>();
        services.AddSingleton<PublicAddress>();
        services.AddApiDescription();
        return services;
    }

    /// <summary><c>/healthz</c>: the process is up. <c>/readyz</c>: it can reach its database.</summary>
    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" })).AllowAnonymous();
        app.MapGet("/readyz", async Task<Results<Ok<HealthView>, JsonHttpResult<HealthView>>> (ISchemaStore schemaStore, CancellationToken cancellationToken) =>
            await schemaStore.PingAsync(cancellationToken)
                ? TypedResults.Ok(new HealthView("ready", "reachable"))
                : TypedResults.Json(new HealthView("not_ready", "unreachable"), statusCode: StatusCodes.Status503ServiceUnavailable))
            .AllowAnonymous();
        app.MapApiDescription();
        return app;
    }

    public sealed record HealthView(string Status, string Storage);
}

/// <summary>
/// The one place REST errors become ProblemDetails: expected failures keep their code and status;
/// an unavailable database is 503 with Retry-After; anything else is a 500 that reveals nothing.
/// </summary>
internal sealed partial class ParleyExceptionHandler(IProblemDetailsService problems, ILogger<ParleyExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, code, detail, retryable) = exception switch
        {
            ParleyException parley => (parley.Status, parley.Code, parley.Message, parley.Retryable),
            StorageUnavailableException => (StatusCodes.Status503ServiceUnavailable, ErrorCodes.StorageUnavailable, "The database is unavailable. Try again.", true),
            StorageValueRefusedException => (StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, ParleyException.ValueRefused().Message, false),
            BadHttpRequestException bad => (bad.StatusCode, ErrorCodes.InvalidRequest, "The request is malformed.", false),
            _ => (StatusCodes.Status500InternalServerError, "server_error", "An unexpected error occurred.", false),
        };
        if (status >= 500 && exception is not ParleyException and not StorageUnavailableException)
        {
            LogUnhandled(logger, exception);
        }

        var problem = new ProblemDetails { Status = status, Title = code, Detail = detail, Extensions = { ["code"] = code } };
        if (retryable)
        {
            problem.Extensions["retryable"] = true;
        }

        if ((retryable || status == StatusCodes.Status503ServiceUnavailable) && !context.Response.Headers.ContainsKey("Retry-After"))
        {
            context.Response.Headers.RetryAfter = exception is ParleyException { RetryAfter: { } after }
                ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : "2";
        }

        if (exception is ParleyException { FailedCheck: { } check })
        {
            // A refused login, in OAuth's words too (RFC 6749 §5.2), with the check that failed.
            problem.Extensions["error"] = code;
            problem.Extensions["error_description"] = detail;
            problem.Extensions["failedCheck"] = check;
            if (status == StatusCodes.Status401Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = BearerChallenge.Of(code, detail);
            }
        }

        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, Exception = exception, ProblemDetails = problem });
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Unhandled error")]
    private static partial void LogUnhandled(ILogger logger, Exception exception);
}
