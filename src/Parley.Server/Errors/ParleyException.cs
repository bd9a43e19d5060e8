namespace Parley.Errors;

/// <summary>
/// An expected failure with a stable error code. REST turns it into ProblemDetails, the WebSocket
/// into an <c>error</c> frame. <see cref="Retryable"/> tells clients that trying again later may work.
/// </summary>
public sealed class ParleyException(string code, string message, int status = StatusCodes.Status400BadRequest, bool retryable = false)
    : Exception(message)
{
    public string Code { get; } = code;

    public int Status { get; } = status;

    public bool Retryable { get; } = retryable;

    /// <summary>
    /// For a refused login: the OAuth check that failed (<c>signature</c>, <c>aud</c>, <c>state</c>, …).
    /// REST adds it, with <c>error</c> and <c>error_description</c>, to the problem details.
    /// </summary>
    public string? FailedCheck { get; init; }

    /// <summary>For a retryable refusal: how long to wait, when Parley knows (REST sends it as <c>Retry-After</c>).</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static ParleyException NotFound(string what) =>
        new(ErrorCodes.NotFound, $"{what} was not found.", StatusCodes.Status404NotFound);

    public static ParleyException Invalid(string message) => new(ErrorCodes.InvalidRequest, message);

    /// <summary>
    /// The deployment id of a visitor's request (<c>POST /api/v1/sessions</c>, <c>/sessions/login</c>):
    /// a request without one is malformed (400 <c>invalid_request</c>), not a request for an unknown deployment (404).
    /// </summary>
    public static Guid RequiredDeploymentId(Guid deploymentId) => deploymentId != Guid.Empty
        ? deploymentId
        : throw Invalid("deploymentId is required: the id of the deployment the page uses (the snippet's data-deployment).");

    /// <summary>A value the database cannot hold: the same request fails the same way, so it is not retryable.</summary>
    public static ParleyException ValueRefused() =>
        new(ErrorCodes.InvalidRequest, "A value in the request cannot be stored (a control character, or out of range). Correct it; sending it again fails the same way.");

    public static ParleyException StorageUnavailable() =>
        new(ErrorCodes.StorageUnavailable, "The database is unavailable; nothing was stored. Try again.", StatusCodes.Status503ServiceUnavailable, retryable: true);
}

public static class ErrorCodes
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidFrame = "invalid_frame";
    public const string UnknownFrameType = "unknown_frame_type";
    public const string NotFound = "not_found";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string ConversationClosed = "conversation_closed";
    public const string NotAssigned = "not_assigned";
    public const string AlreadyAssigned = "already_assigned";
    public const string MessageTooLong = "message_too_long";
    public const string StorageUnavailable = "storage_unavailable";
    public const string OriginNotAllowed = "origin_not_allowed";
    public const string RateLimited = "rate_limited";
    public const string TooManyConnections = "too_many_connections";
    public const string AuthenticationExpired = "authentication_expired";
    public const string CapacityReached = "capacity_reached";
    public const string NotInQueue = "not_in_queue";
    public const string AuthenticationMisconfigured = "authentication_misconfigured";
    public const string AuthenticationRequired = "authentication_required";
}
