using System.Net;
using System.Net.Sockets;

namespace Feedback.Api.Security;

/// <summary>The client address a per-address limit counts under, after X-Forwarded-For from a trusted proxy was applied.</summary>
internal static class ClientAddress
{
    /// <summary>
    /// An IPv4 address as it is; an IPv6 one by its /64, since one host commonly holds a whole /64 and could
    /// otherwise take a new address for every request. No address (an in-process test host) is one partition.
    /// </summary>
    public static string Partition(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
