using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Storage;

namespace Parley.Authentication;

/// <summary>Starts a code-flow login: where the page should send the visitor to log in.</summary>
public sealed record CodeLoginRequest(Guid DeploymentId, string RedirectUri);

/// <summary>
/// A login in progress: the single-use <c>State</c>, the <c>Nonce</c> the id_token must carry, the
/// PKCE challenge (Parley keeps the verifier), and the brand's authorization URL with all of them.
/// </summary>
public sealed record CodeLoginResponse(string State, string Nonce, string CodeChallenge, string CodeChallengeMethod, string? AuthorizationUrl, DateTimeOffset ExpiresAt);

/// <summary><c>POST /api/v1/sessions/login</c>: starts a pre-chat code-flow login (the sign-in itself is <see cref="VisitorSignIn"/>).</summary>
public static class VisitorLogin
{
    public static IEndpointRouteBuilder MapVisitorLogin(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/sessions/login", StartLoginAsync).AllowAnonymous().RequireCors(Messenger.MessengerEndpoints.CorsPolicy)
            .RequireRateLimiting(Security.AbuseLimits.SessionsPolicy);
        return app;
    }

    /// <summary>
    /// Starts a code-flow login for a deployment: a single-use state (<c>Parley:LoginLinkLifetime</c>), a nonce and a
    /// PKCE challenge; the redirect URI must be on one of the deployment's allowed origins.
    /// </summary>
    private static async Task<Ok<CodeLoginResponse>> StartLoginAsync(
        CodeLoginRequest request, IDeploymentStore deploymentStore, VisitorSignIn signIn, LoginLinks links, CancellationToken cancellationToken)
    {
        var deployment = await deploymentStore.GetDeploymentAsync(ParleyException.RequiredDeploymentId(request.DeploymentId), cancellationToken) ?? throw ParleyException.NotFound("The deployment");
        var settings = await signIn.SettingsOfAsync(deployment, cancellationToken);
        if (settings.Flow != AuthenticationFlow.Code)
        {
            throw ParleyException.Invalid("This deployment's authentication settings use the implicit flow; send the page's JWT as \"jwt\".");
        }

        if (!Uri.TryCreate(request.RedirectUri, UriKind.Absolute, out var redirect)
            || !deployment.AllowsOrigin(redirect.GetLeftPart(UriPartial.Authority)))
        {
            throw ParleyException.Invalid("redirectUri must be an absolute URL on one of the deployment's allowed origins.");
        }

        return TypedResults.Ok(await links.StartPreChatAsync(settings, deployment.Id, request.RedirectUri, cancellationToken));
    }
}
