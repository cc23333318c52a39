using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Feedback.Storage.Postgres;

/// <summary>
/// Where the PostgreSQL store is, the name this instance claims background work under, and how long one LLM call may
/// take (AI_TIMEOUT_MS), which bounds how long a provisional row stays this instance's.
/// </summary>
internal sealed record PostgresStoreSettings(string ConnectionString, string InstanceId, TimeSpan LlmTimeout);

internal static class PostgresStore
{
    public static IServiceCollection AddPostgresStore(this IServiceCollection services, string connectionString, TimeSpan llmTimeout)
    {
        // Several instances share the database; each needs its own name for its leases (two test hosts share a process).
        var instance = $"{Environment.MachineName}-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        var builder = new NpgsqlConnectionStringBuilder(connectionString);

        // The writer's few statements run thousands of times: prepared once per connection, they skip the planner.
        builder.MaxAutoPrepare = builder.MaxAutoPrepare == 0 ? 32 : builder.MaxAutoPrepare;
        builder.AutoPrepareMinUsages = 2;
        var store = new PostgresStoreSettings(builder.ConnectionString, instance, llmTimeout);
        services.AddSingleton(store);
        services.AddSingleton(_ => NpgsqlDataSource.Create(store.ConnectionString));
        services.AddSingleton<StoreHealth>();
        services.AddSingleton<PostgresWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<PostgresWriter>());
        services.AddSingleton<IFeedbackStore>(sp => sp.GetRequiredService<PostgresWriter>());
        services.AddSingleton(sp => sp.GetRequiredService<PostgresWriter>().Changes);
        services.AddSingleton<IWorkClaims, PostgresWorkClaims>();
        services.AddSingleton<IBackgroundReads, EfBackgroundReads>();
        services.AddDbContextPool<FeedbackDb, PostgresFeedbackDb>((sp, options) => options.UseNpgsql(
            sp.GetRequiredService<NpgsqlDataSource>(),
            npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history")));
        return services;
    }

    /// <summary>Any number, the same in every instance: the advisory lock that lets one of them migrate at a time.</summary>
    private const long MigrationLock = 0x46656564_6261636B; // "Feedback"

    /// <summary>
    /// Applies pending migrations, one instance at a time. EF's own migration lock did not keep two instances started
    /// together on a new database apart (the second created a table the first had just made, and exited): compose and
    /// scripts/cluster.sh start both at once. A session-level advisory lock on a connection of its own holds the others
    /// until the first has finished; they then find nothing to do. A crash ends the session, which frees the lock.
    /// </summary>
    public static void Migrate(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        using var lockConnection = scope.ServiceProvider.GetRequiredService<NpgsqlDataSource>().OpenConnection();
        MigrateExclusively(scope.ServiceProvider.GetRequiredService<FeedbackDb>(), lockConnection);
    }

    /// <summary>Migrates <paramref name="db"/> while holding the migration lock on <paramref name="lockConnection"/> (the CLI comes here too).</summary>
    public static void MigrateExclusively(DbContext db, NpgsqlConnection lockConnection)
    {
        Advisory(lockConnection, "pg_advisory_lock");
        try
        {
            db.Database.Migrate();
        }
        finally
        {
            // Explicitly: a pooled connection keeps its session, and the lock with it, until it is next used.
            Advisory(lockConnection, "pg_advisory_unlock");
        }
    }

    private static void Advisory(NpgsqlConnection connection, string function)
    {
        using var command = new NpgsqlCommand($"SELECT {function}(@key)", connection);
        command.Parameters.AddWithValue("key", MigrationLock);
        command.ExecuteNonQuery();
    }
}

/// <summary>Which PostgreSQL failures mean the store, not the request, is at fault (503 and a retry later).</summary>
internal static class PostgresFaults
{
    public static bool IsStoreFault(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState switch
        {
            ['0', '8', ..] => true,        // connection exceptions
            ['5', '3', ..] => true,        // insufficient resources: disk full, out of memory, too many connections
            ['5', '7', 'P', ..] => true,   // the server is shutting down or starting up
            ['5', '8', ..] => true,        // system error (I/O)
            "25006" => true,               // read-only transaction (a standby, or default_transaction_read_only)
            "XX001" or "XX002" => true,    // data or index corrupted
            _ => false,
        },

        // Without a server error the connection itself failed: refused, reset, timed out, or no free connection in the pool.
        NpgsqlException => true,
        _ => false,
    };

    public static string Describe(Exception exception) => exception switch
    {
        PostgresException { SqlState: "53100" } => "the database server's disk is full",
        PostgresException { SqlState: "53300" } => "the database server has no free connection",
        PostgresException { SqlState: "25006" } => "the database is read-only",
        PostgresException { SqlState: ['5', '7', 'P', ..] } => "the database server is shutting down or starting",
        PostgresException { SqlState: "XX001" or "XX002" } => "the database reports damaged data",
        PostgresException => "the database server reported an error",
        _ => "the database server cannot be reached",
    };
}

/// <summary>
/// Claims with <c>FOR UPDATE SKIP LOCKED</c> plus a lease: instances polling at the same moment skip each other's rows
/// instead of waiting, and a row whose claimant died becomes claimable again when its lease ends.
/// </summary>
internal sealed class PostgresWorkClaims(NpgsqlDataSource dataSource, PostgresStoreSettings settings) : IWorkClaims
{
    /// <remarks>Rows this instance holds carry its unexpired lease, so the claim passes them over without <paramref name="held"/>.</remarks>
    public async Task<IReadOnlyList<AlertDelivery>> ClaimDeliveriesAsync(
        IReadOnlyCollection<string> channels, IReadOnlyCollection<long> held, DateTime now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE alert_deliveries d SET claimed_by = @me, lease_until = @until
            FROM (SELECT id FROM alert_deliveries
                  WHERE state = 'pending' AND next_attempt_at <= @now AND channel = ANY(@channels)
                    AND (lease_until IS NULL OR lease_until < @now)
                  ORDER BY next_attempt_at, id LIMIT @limit FOR UPDATE SKIP LOCKED) due
            WHERE d.id = due.id
            RETURNING d.id, d.group_id, d.kind, d.channel, d.attempts, d.next_attempt_at, d.created_at
            """);
        command.Parameters.AddWithValue("me", settings.InstanceId);
        command.Parameters.AddWithValue("until", Utc(now + lease));
        command.Parameters.AddWithValue("now", Utc(now));
        command.Parameters.AddWithValue("channels", channels.ToArray());
        command.Parameters.AddWithValue("limit", limit);
        var claimed = new List<AlertDelivery>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new AlertDelivery
            {
                Id = reader.GetInt64(0),
                GroupId = reader.GetInt64(1),
                Kind = reader.GetString(2),
                Channel = reader.GetString(3),
                State = "pending",
                Attempts = reader.GetInt32(4),
                NextAttemptAt = reader.GetDateTime(5),
                CreatedAt = reader.GetDateTime(6),
            });
        }

        // RETURNING gives no order; the senders send oldest first.
        claimed.Sort((a, b) => a.NextAttemptAt != b.NextAttemptAt ? a.NextAttemptAt.CompareTo(b.NextAttemptAt) : a.Id.CompareTo(b.Id));
        return claimed;
    }

    public Task ReleaseDeliveriesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) =>
        ReleaseAsync("alert_deliveries", ids, cancellationToken);

    public async Task<IReadOnlyList<(long Id, string Text)>> ClaimProvisionalAsync(
        long afterId, DateTime now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE feedback f SET claimed_by = @me, lease_until = @until
            FROM (SELECT id FROM feedback
                  WHERE status = 'provisional' AND id > @after AND (lease_until IS NULL OR lease_until < @now)
                  ORDER BY id LIMIT @limit FOR UPDATE SKIP LOCKED) due
            WHERE f.id = due.id
            RETURNING f.id, f.text
            """);
        command.Parameters.AddWithValue("me", settings.InstanceId);
        command.Parameters.AddWithValue("until", Utc(now + lease));
        command.Parameters.AddWithValue("now", Utc(now));
        command.Parameters.AddWithValue("after", afterId);
        command.Parameters.AddWithValue("limit", limit);
        var rows = new List<(long Id, string Text)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1)));
        }

        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        return rows;
    }

    public Task ReleaseProvisionalAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) =>
        ReleaseAsync("feedback", ids, cancellationToken);

    /// <summary>Gives back this instance's claims on the rows, so another sweep or instance can take them now.</summary>
    private async Task ReleaseAsync(string table, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand(
            $"UPDATE {table} SET claimed_by = NULL, lease_until = NULL WHERE id = ANY(@ids) AND claimed_by = @me");
        command.Parameters.AddWithValue("ids", ids.ToArray());
        command.Parameters.AddWithValue("me", settings.InstanceId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}
