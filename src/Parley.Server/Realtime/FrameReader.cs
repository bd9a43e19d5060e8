using System.Text.Json;

namespace Parley.Realtime;

/// <summary>Reads an inbound frame, or says exactly what is wrong with it (never throws for any input).</summary>
internal static class FrameReader
{
    /// <summary>
    /// The frame, or null with an error frame saying what is wrong with it. The error echoes the
    /// frame's <c>requestId</c> whenever one can be read, so a client can match it to its request.
    /// </summary>
    internal static InboundFrame? Parse(ReadOnlySpan<byte> json, out ErrorFrame? error)
    {
        error = null;
        try
        {
            var frame = JsonSerializer.Deserialize(json, FrameJsonContext.Default.InboundFrame);
            if (frame is null)
            {
                error = new ErrorFrame(ErrorCodes.InvalidFrame, "A frame is a JSON object with a \"type\".", false);
            }

            return frame;
        }
        catch (Exception exception) when (exception is JsonException or NotSupportedException or InvalidOperationException)
        {
            var (type, requestId) = HeaderOf(json);
            error = type switch
            {
                null => new ErrorFrame(ErrorCodes.InvalidFrame, "A frame is a JSON object with a string \"type\".", false),
                _ when !InboundFrame.Types.Contains(type) =>
                    new ErrorFrame(ErrorCodes.UnknownFrameType, $"Unknown frame type \"{Truncate(type)}\".", false),
                _ => new ErrorFrame(ErrorCodes.InvalidFrame, $"Invalid \"{type}\" frame: {Describe(exception)}", false),
            } with { RequestId = requestId };
            return null;
        }
    }

    private static string Describe(Exception exception) =>
        exception.Message.Contains("required properties", StringComparison.Ordinal) || exception.Message.Contains("missing required", StringComparison.Ordinal)
            ? "a required member is missing."
            : "a member has the wrong type or format.";

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";

    /// <summary>
    /// The top-level string members "type" and "requestId" of a JSON object (each null when absent,
    /// not a string, or too long to echo), read as far as the JSON is well formed.
    /// </summary>
    private static (string? Type, string? RequestId) HeaderOf(ReadOnlySpan<byte> json)
    {
        string? type = null, requestId = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null);
            }

            while ((type is null || requestId is null) && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("type"u8);
                var isRequestId = reader.ValueTextEquals("requestId"u8);
                reader.Read();
                if ((isType || isRequestId) && reader.TokenType == JsonTokenType.String)
                {
                    var value = reader.GetString();
                    if (isType)
                    {
                        type ??= value;
                    }
                    else if (value is { Length: <= MaxEchoedRequestId })
                    {
                        requestId ??= value;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            // Malformed JSON, or a string that is not valid UTF-8 (found by FrameFuzzTests): what was read stands.
        }

        return (type, requestId);
    }

    /// <summary>A longer requestId in a malformed frame is not echoed (a valid frame's always is).</summary>
    private const int MaxEchoedRequestId = 200;
}
