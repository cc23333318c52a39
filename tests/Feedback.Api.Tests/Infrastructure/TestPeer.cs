using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>
/// The in-process test host has no peer address; this puts the one in the X-Test-Peer header on the connection before
/// anything of the service's runs, as if the request had come from that address (a client, or a proxy).
/// </summary>
public static class TestPeer
{
    public const string Header = "X-Test-Peer";

    public static void Add(IServiceCollection services) => services.AddSingleton<IStartupFilter, PeerFilter>();

    public static HttpRequestMessage From(this HttpRequestMessage request, string address)
    {
        request.Headers.Add(Header, address);
        return request;
    }

    private sealed class PeerFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(Header, out var peer))
                {
                    context.Connection.RemoteIpAddress = IPAddress.Parse(peer.ToString());
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
