using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Feedback.Storage;

/// <summary>
/// What <c>feedback.idempotency_key</c> holds for a client's Idempotency-Key: the lower-case SHA-256 hex of
/// <c>KEYNAME:KEY</c>, 64 characters whatever the lengths of the two. API key names cannot contain ':' (they are
/// letters, digits, '.', '_' and '-'), so the first ':' ends the name and two (name, key) pairs never share a digest.
/// Rows stored before the digest held that very text; the IdempotencyKeyDigests migration (PostgreSQL) and
/// <see cref="HashStoredKeys"/> (SQLite) hash them in place, so a
/// retry of a request sent before the upgrade still finds its row. CLI imports keep their readable <c>import:…</c> keys.
/// </summary>
internal static class IdempotencyKeyDigest
{
    public static string Of(string keyName, string key) => Hex($"{keyName}:{key}");

    private static string Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// Hashes the keys a SQLite store holds from before the digests, in place. SQLite has no SHA-256 of its own, so this
    /// is done here, with a function given to the connection, rather than in the SQLite migration's SQL; it runs before
    /// the migrator (<see cref="SqliteSchema"/>), and again harmlessly if a start stopped in between, as a digest has no ':'.
    /// </summary>
    public static void HashStoredKeys(SqliteConnection connection)
    {
        connection.CreateFunction<string, string>("feedback_sha256_hex", Hex, isDeterministic: true);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'feedback'";
        if ((long)command.ExecuteScalar()! == 0)
        {
            return;
        }

        command.CommandText = "UPDATE feedback SET idempotency_key = feedback_sha256_hex(idempotency_key) " +
            "WHERE idempotency_key LIKE '%:%' AND idempotency_key NOT LIKE 'import:%'";
        command.ExecuteNonQuery();
    }
}

