using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Parley.Testing;

/// <summary>A brand's identity endpoints on real Kestrel (loopback), whose answers a test changes at will.</summary>
public sealed class BrandEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BrandEndpoint(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    /// <summary>Path → what it answers. Unknown paths are 404.</summary>
    public ConcurrentDictionary<string, Func<HttpContext, Task>> Routes { get; } = new();

    public ConcurrentDictionary<string, int> Hits { get; } = new();

    public Uri Url(string path) => new(BaseUri, path);

    public void Serve(string path, string body, int status = 200) =>
        Routes[path] = async context =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        };

    public static async Task<BrandEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        BrandEndpoint? endpoint = null;
        app.Run(async context =>
        {
            var path = context.Request.Path.Value ?? "/";
            endpoint!.Hits.AddOrUpdate(path, 1, (_, n) => n + 1);
            if (endpoint.Routes.TryGetValue(path, out var handler))
            {
                await handler(context);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint = new BrandEndpoint(app, new Uri(address));
        return endpoint;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
