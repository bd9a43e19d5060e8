using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Parley.Operations;

/// <summary>
/// The address browsers reach Parley at, for links Parley builds outside a request (the mid-chat
/// login callback). <c>Parley:PublicUrl</c> when set (required behind a proxy); otherwise the first
/// address Kestrel listens on, with a wildcard host read as localhost.
/// </summary>
public sealed class PublicAddress
{
    private readonly IOptions<ParleyOptions> _options;
    private readonly IServer? _server;

    public PublicAddress(IOptions<ParleyOptions> options, IServer server)
    {
        _options = options;
        _server = server;
    }

    /// <summary>Without a web server (the use cases run on a plain host): <c>Parley:PublicUrl</c>, else the default address.</summary>
    public PublicAddress(IOptions<ParleyOptions> options)
    {
        _options = options;
    }

    public Uri BaseUri
    {
        get
        {
            if (_options.Value.PublicUrl is { Length: > 0 } configured)
            {
                return new Uri(configured.TrimEnd('/') + "/");
            }

            var listening = _server?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://localhost:5080";
            return new UriBuilder(Browsable(listening)) { Path = "/" }.Uri;
        }
    }

    /// <summary>A listening address as a browser would use it: a wildcard host becomes localhost.</summary>
    public static string Browsable(string listening) =>
        listening.Replace("://+", "://localhost", StringComparison.Ordinal)
            .Replace("://*", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal)
            .Replace("://[::]", "://localhost", StringComparison.Ordinal)
            .TrimEnd('/');

    public Uri Resolve(string path) => new(BaseUri, path.TrimStart('/'));
}
