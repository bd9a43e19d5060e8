namespace Parley.Testing;

/// <summary>
/// Abuse limits (<c>Parley:Limits</c>) high enough that a test or a load run from one loopback
/// address, with many sessions and fast senders, never trips them. Tests of the limits themselves
/// set their own.
/// </summary>
public static class GenerousLimits
{
    public static readonly string[] Settings =
    [
        "--Parley:Limits:SessionsPerIpPerMinute=1000000",
        "--Parley:Limits:SessionsPerDeploymentPerMinute=1000000",
        "--Parley:Limits:FramesPerSecond=1000000",
        "--Parley:Limits:FrameBurst=1000000",
        "--Parley:Limits:MaxConnectionsPerConsumer=100000",
        "--Parley:Limits:LoginLinksPerConversation=100000",
        "--Parley:Limits:MidChatLoginsPerConversationPerMinute=100000",
        "--Parley:Limits:SignInsPerIpPerMinute=1000000",
    ];
}
