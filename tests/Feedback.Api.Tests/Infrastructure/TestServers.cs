using Npgsql;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>Which database a test's app stores in.</summary>
public enum StoreKind
{
    Sqlite,
    Postgres,
}

/// <summary>
/// The throw-away PostgreSQL and Redis servers scripts/test-servers.sh starts (./run.sh test starts them around the run).
/// Without them a test that needs one fails and says how to start them; FEEDBACK_SKIP_SERVERS=1 skips it instead, on purpose.
/// </summary>
public static class TestServers
{
    public static string Postgres => Require("FEEDBACK_TEST_POSTGRES", "PostgreSQL");

    public static string Redis => Require("FEEDBACK_TEST_REDIS", "Redis");

    private static string Require(string variable, string what)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value;
        }

        if (Environment.GetEnvironmentVariable("FEEDBACK_SKIP_SERVERS") == "1")
        {
            Assert.Skip($"{what} test skipped: FEEDBACK_SKIP_SERVERS=1 and {variable} is not set.");
        }

        throw new InvalidOperationException(
            $"{variable} is not set, so this {what} test cannot run. Run ./run.sh test (it starts throw-away servers), or " +
            "eval \"$(scripts/test-servers.sh start)\" before dotnet test; set FEEDBACK_SKIP_SERVERS=1 to skip these tests on purpose.");
    }
}

/// <summary>A fresh database on the test PostgreSQL server for one test, dropped when disposed.</summary>
public sealed class PostgresDatabase : IDisposable
{
    private PostgresDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    /// <summary>The Npgsql connection string of this database, as DATABASE_URL takes it.</summary>
    public string ConnectionString { get; }

    public static PostgresDatabase Create()
    {
        var admin = TestServers.Postgres;
        var name = "feedback_test_" + Guid.NewGuid().ToString("N")[..16];
        using (var connection = new NpgsqlConnection(admin))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            command.ExecuteNonQuery();
        }

        return new PostgresDatabase(name, new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString);
    }

    public NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        return connection;
    }

    public void Dispose()
    {
        using var connection = new NpgsqlConnection(TestServers.Postgres);
        connection.Open();

        // FORCE ends connections a stopped host's pool may still hold.
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }
}
