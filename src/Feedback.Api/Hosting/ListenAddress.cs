using System.Globalization;
using System.Net;

namespace Feedback.Api.Hosting;

/// <summary>
/// The URL the server listens on, from HOST and PORT. Checked here because Kestrel reads a port it cannot parse
/// as part of the host name and then listens on port 80 of every interface, and crashes with a stack trace on a
/// port out of range: neither names the variable.
/// </summary>
internal static class ListenAddress
{
    public const string DefaultHost = "127.0.0.1";
    public const string DefaultPort = "8000";

    /// <summary>The URL for UseUrls, or null with an error that names the variable.</summary>
    public static string? Build(string? host, string? port, out string? error)
    {
        host = Normalise(host);
        port = (port ?? DefaultPort).Trim();
        error = null;
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > IPEndPoint.MaxPort)
        {
            // 0 stays valid: the OS picks a free port (the tests start servers that way).
            error = $"PORT must be a whole number from 0 to {IPEndPoint.MaxPort} (got '{port}').";
            return null;
        }

        // Kestrel's own wildcards (* and +) and any IP address or DNS name; nothing that would change the URL's shape.
        if (!IsAddressOrWildcard(host) && Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            error = $"HOST must be an IP address or a host name, e.g. 127.0.0.1 or 0.0.0.0 (got '{host}').";
            return null;
        }

        return $"http://{host}:{number.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// A note for a HOST that is a host name other than localhost: Kestrel does not resolve it but listens on every
    /// interface, which someone who wrote a name to narrow where the API answers would not expect.
    /// </summary>
    public static string? Warning(string? host)
    {
        host = Normalise(host);
        return IsAddressOrWildcard(host) || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            ? null
            : $"HOST '{host}' is a host name, so the server listens on every network interface (0.0.0.0 and ::). " +
              "Set HOST to an IP address, such as 127.0.0.1, to listen on one interface.";
    }

    private static string Normalise(string? host) => (host ?? DefaultHost).Trim();

    private static bool IsAddressOrWildcard(string host) => host is "*" or "+" || IPAddress.TryParse(host, out _);
}
