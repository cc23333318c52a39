using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>
/// The store a CLI test runs on: a SQLite file in the test's folder (DATA_DIR) or a fresh database on the test PostgreSQL
/// server (DATABASE_URL), read back with SQL both understand (parameters named <c>@name</c>).
/// </summary>
public sealed class CliStore : IDisposable
{
    private readonly string _dataDir;
    private readonly PostgresDatabase? _postgres;

    public CliStore(StoreKind kind, string directory)
    {
        _dataDir = Path.Combine(directory, "data");
        _postgres = kind == StoreKind.Postgres ? PostgresDatabase.Create() : null;
    }

    /// <summary>The CLI's settings for this store.</summary>
    public Dictionary<string, string> Environment => _postgres is null
        ? new(StringComparer.Ordinal) { ["DATA_DIR"] = _dataDir }
        : new(StringComparer.Ordinal) { ["DATABASE_URL"] = _postgres.ConnectionString };

    public DbConnection Open()
    {
        if (_postgres is not null)
        {
            return _postgres.Open();
        }

        var connection = new SqliteConnection($"Data Source={Path.Combine(_dataDir, "feedback.db")};Pooling=False");
        connection.Open();
        return connection;
    }

    /// <summary>
    /// What the store holds, to tell whether anything was written: the SQLite file's bytes, or every message row of the
    /// PostgreSQL database as text.
    /// </summary>
    public byte[] Snapshot() => _postgres is null
        ? File.ReadAllBytes(Path.Combine(_dataDir, "feedback.db"))
        : System.Text.Encoding.UTF8.GetBytes((string)Query("SELECT string_agg(f::text, E'\\n' ORDER BY id) FROM feedback f")!);

    /// <summary>The first column of the first row; PostgreSQL's integer columns read as the 64-bit numbers SQLite gives.</summary>
    public object? Query(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection, sql, parameters);
        var value = command.ExecuteScalar();
        return value is int number ? (long)number : value;
    }

    public int Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = Open();
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    public static DbCommand Command(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    public void Dispose() => _postgres?.Dispose();
}
