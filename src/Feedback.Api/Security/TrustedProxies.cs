using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Feedback.Api.Security;

/// <summary>
/// Which peers may say, in X-Forwarded-For and X-Forwarded-Proto, who the client is and whether it came over TLS
/// (TRUSTED_PROXIES: addresses or networks, comma-separated; unset trusts loopback only). A header from any other
/// peer is ignored, so a client cannot pick its own address to escape a per-address limit, or claim HTTPS.
/// </summary>
internal sealed class ProxySettings
{
    [ConfigurationKeyName("TRUSTED_PROXIES")]
    public string? TrustedProxies { get; set; }

    public IReadOnlyList<string> Failures()
    {
        try
        {
            _ = Networks();
            return [];
        }
        catch (FormatException exception)
        {
            return [exception.Message];
        }
    }

    /// <summary>The trusted networks: loopback when unset, else what TRUSTED_PROXIES names (an address is a /32 or /128).</summary>
    /// <exception cref="FormatException">An entry is neither an address nor a network.</exception>
    public IReadOnlyList<System.Net.IPNetwork> Networks()
    {
        if (string.IsNullOrWhiteSpace(TrustedProxies))
        {
            return [new System.Net.IPNetwork(IPAddress.Loopback, 8), new System.Net.IPNetwork(IPAddress.IPv6Loopback, 128)];
        }

        var networks = new List<System.Net.IPNetwork>();
        foreach (var entry in TrustedProxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (System.Net.IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry, out var address))
            {
                networks.Add(new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32));
            }
            else
            {
                throw new FormatException($"TRUSTED_PROXIES: '{entry}' is neither an IP address nor a network such as 10.0.0.0/8.");
            }
        }

        return networks;
    }
}

internal static class TrustedProxyExtensions
{
    /// <summary>X-Forwarded-For (one hop: the proxy's view of the client) and X-Forwarded-Proto, from the trusted networks only.</summary>
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, ProxySettings settings)
    {
        var networks = settings.Networks();
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(network);
            }
        });
        return services;
    }
}
