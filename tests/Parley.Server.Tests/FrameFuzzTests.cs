using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Parley.Realtime;

namespace Parley.Server.Tests;

/// <summary>
/// Property tests of the WebSocket frame parser: whatever a client sends, it answers a frame or a
/// clear error, never an exception, and random bytes are never taken for a frame.
/// </summary>
public sealed class FrameFuzzTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(3000);

    private static readonly string[] Valid =
    [
        """{"type":"auth","token":"pvt_abc"}""",
        """{"type":"message.send","conversationId":"0b8f4a52-6c1d-4c57-9a0e-4a3f1c2d9e10","clientMessageId":"c-1","text":"hi","requestId":"r"}""",
        """{"type":"conversation.subscribe","conversationId":"0b8f4a52-6c1d-4c57-9a0e-4a3f1c2d9e10","since":3}""",
        """{"type":"receipt","conversationId":"0b8f4a52-6c1d-4c57-9a0e-4a3f1c2d9e10","deliveredSeq":2,"readSeq":1}""",
        """{"type":"conversation.start","attributes":{"page":"/pricing"}}""",
        """{"type":"conversation.authenticate","conversationId":"0b8f4a52-6c1d-4c57-9a0e-4a3f1c2d9e10","state":"s","code":"c"}""",
    ];

    /// <summary>Exactly one of a frame and an error, and no exception.</summary>
    private static bool Answered(byte[] bytes)
    {
        var frame = FrameReader.Parse(bytes, out var error);
        return (frame is null) != (error is null) && (error is null || error.Message.Length > 0);
    }

    [Fact]
    public void Every_valid_frame_the_mutations_start_from_parses()
    {
        Assert.All(Valid, json => Assert.NotNull(FrameReader.Parse(Encoding.UTF8.GetBytes(json), out _)));
    }

    [Fact]
    public void Arbitrary_bytes_get_an_error_and_never_a_frame()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            var input = bytes ?? [];
            return Answered(input) && FrameReader.Parse(input, out _) is null;
        }).Check(Runs);
    }

    [Fact]
    public void Valid_frames_with_bytes_changed_inserted_or_deleted_get_a_frame_or_an_error_never_an_exception()
    {
        var mutations =
            from json in Gen.Elements(Valid)
            let bytes = Encoding.UTF8.GetBytes(json)
            from position in Gen.Choose(0, bytes.Length - 1)
            from kind in Gen.Choose(0, 2)
            from b in ArbMap.Default.GeneratorFor<byte>()
            select kind switch
            {
                0 => [.. bytes[..position], b, .. bytes[(position + 1)..]],
                1 => [.. bytes[..position], b, .. bytes[position..]],
                _ => (byte[])[.. bytes[..position], .. bytes[(position + 1)..]],
            };
        Prop.ForAll(mutations.ToArbitrary(), Answered).Check(Runs);
    }

    [Fact]
    public void Deeply_nested_and_type_confused_json_gets_an_error()
    {
        var values = Gen.Elements("null", "1", "-1e309", "true", "\"x\"", "[]", "{}", new string('[', 100) + new string(']', 100), "\"\\ud800\"", "1.5", "\"00000000-0000-0000-0000-00000000000\"");
        var frames =
            from type in Gen.Elements(Valid.Select(v => v[9..v.IndexOf('"', 9)]).Append("").Append("x").ToArray())
            from member in Gen.Elements("conversationId", "since", "text", "clientMessageId", "attributes", "token", "type", "deliveredSeq")
            from value in values
            select Encoding.UTF8.GetBytes($$"""{"type":"{{type}}","{{member}}":{{value}}}""");
        Prop.ForAll(frames.ToArbitrary(), Answered).Check(Runs);
    }
}
