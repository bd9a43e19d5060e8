namespace Parley.Identity.Keys;

/// <summary>
/// The host of a key URL, discovery document or token endpoint resolves to an address the relying
/// party does not call (loopback, a private or link-local network, a cloud metadata address), and no
/// setting allows it. Thrown by the connection layer before anything is sent.
/// </summary>
public sealed class OutboundAddressRefusedException(string host)
    : IOException($"{host} resolves to a private, loopback or link-local address, which Parley does not call; an operator can allow that network (Parley:Outbound:AllowedNetworks).")
{
    public string Host { get; } = host;
}
