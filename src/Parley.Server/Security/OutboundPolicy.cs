using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Parley.Identity.Keys;

namespace Parley.Security;

/// <summary>The <c>Parley:Outbound</c> section: where Parley's own requests to identity providers may go.</summary>
public sealed class OutboundOptions
{
    public const string Section = "Parley:Outbound";

    /// <summary>
    /// Networks (CIDR, e.g. <c>10.20.0.0/16</c>) that key URLs, discovery documents and token
    /// endpoints may resolve to although they are private: for brands whose IdP runs inside the network.
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>Whether loopback may be called. Unset: in Development only (a local IdP for testing).</summary>
    public bool? AllowLoopback { get; set; }
}

/// <summary>
/// Which addresses Parley connects to for an identity provider. An admin sets key URLs, discovery
/// and token endpoints, so without a check they could aim Parley at anything it can reach (SSRF): a
/// cloud metadata service, the database, an internal admin page. Every connection — the first and
/// each redirect's — is checked on the addresses DNS gives, before anything is sent: loopback,
/// private, link-local, shared (CGNAT), multicast and reserved addresses are refused unless an
/// allowed network holds them. Parley connects to the address it checked, so a second DNS answer
/// cannot swap it (DNS rebinding).
/// </summary>
public sealed class OutboundPolicy
{
    private static readonly IPNetwork[] NotPublic =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
            "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
            // IPv6 forms that carry an IPv4 address (IPv4-compatible, NAT64, 6to4, Teredo) are refused
            // whole: through them a public-looking address can reach a private IPv4 one.
            "::/96", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32", "2002::/16",
            "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
        }.Select(IPNetwork.Parse),
    ];

    private readonly IPNetwork[] _allowed;
    private readonly bool _loopback;

    public OutboundPolicy(IOptions<OutboundOptions> options, IHostEnvironment environment)
    {
        _allowed = [.. options.Value.AllowedNetworks.Select(IPNetwork.Parse)];
        _loopback = options.Value.AllowLoopback ?? environment.IsDevelopment();
    }

    /// <summary>Whether Parley may connect to <paramref name="address"/>.</summary>
    public bool Allows(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return _allowed.Any(n => n.Contains(address))
            || (_loopback && IPAddress.IsLoopback(address))
            || !NotPublic.Any(n => n.Contains(address));
    }

    /// <summary>
    /// The handler of Parley's identity-provider clients: every connection goes through the check,
    /// and <paramref name="followRedirects"/> decides whether redirects are followed (each checked in turn).
    /// </summary>
    public SocketsHttpHandler Handler(bool followRedirects) => new()
    {
        AllowAutoRedirect = followRedirects,
        MaxAutomaticRedirections = 3,
        UseCookies = false,
        // Through a proxy the check would see the proxy's address, not the target's.
        UseProxy = false,
        ConnectCallback = ConnectAsync,
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        // A name that also resolves somewhere private is refused whole: no address lottery.
        if (addresses.Length == 0 || !addresses.All(Allows))
        {
            throw new OutboundAddressRefusedException(host);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
