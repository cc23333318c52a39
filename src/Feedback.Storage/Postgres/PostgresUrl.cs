using System.Diagnostics.CodeAnalysis;
using Npgsql;

namespace Feedback.Storage.Postgres;

/// <summary>
/// Reads DATABASE_URL's PostgreSQL forms: postgres://user:password@host:port/database?sslmode=require (and
/// postgresql://), as hosting platforms hand them out, or Npgsql's own Host=...;Username=...;Database=... form.
/// </summary>
internal static class PostgresUrl
{
    public static bool IsPostgres([NotNullWhen(true)] string? url)
    {
        url = url?.Trim();
        if (string.IsNullOrEmpty(url))
        {
            return false;
        }

        if (url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // The key=value form: SQLite's says Data Source, Npgsql's names a host.
        return url.Contains('=', StringComparison.Ordinal)
            && url.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Any(part => part.StartsWith("Host=", StringComparison.OrdinalIgnoreCase) || part.StartsWith("Server=", StringComparison.OrdinalIgnoreCase));
    }

    public static bool TryParse(string? url, [NotNullWhen(true)] out string? connectionString, [NotNullWhen(false)] out string? error)
    {
        connectionString = null;
        if (!IsPostgres(url))
        {
            error = "not a PostgreSQL address";
            return false;
        }

        return TryBuild(url.Trim(), out connectionString, out error);
    }

    /// <summary>
    /// Apart from <see cref="TryParse"/>: compiling a method that names an Npgsql type loads Npgsql, and every server
    /// asks TryParse about DATABASE_URL, a SQLite one included.
    /// </summary>
    private static bool TryBuild(string url, [NotNullWhen(true)] out string? connectionString, [NotNullWhen(false)] out string? error)
    {
        connectionString = null;
        try
        {
            var builder = url.Contains("://", StringComparison.Ordinal) ? FromUrl(url) : new NpgsqlConnectionStringBuilder(url);
            if (string.IsNullOrEmpty(builder.Host))
            {
                error = "no host";
                return false;
            }

            connectionString = builder.ConnectionString;
            error = null;
            return true;
        }
        catch (Exception exception) when (exception is ArgumentException or UriFormatException or FormatException or KeyNotFoundException)
        {
            // The message names the bad part; the URL itself may hold a password, so it is not repeated.
            error = exception.Message;
            return false;
        }
    }

    private static NpgsqlConnectionStringBuilder FromUrl(string url)
    {
        var uri = new Uri(url);
        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host };
        if (uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);

            // libpq spells it sslmode; Npgsql's builder takes its own names and rejects the rest with a clear message.
            builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = value;
        }

        return builder;
    }
}
