using System.Globalization;
using Feedback.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>Opening SQLite store files directly, for tests that compare what different paths made of them.</summary>
public static class StoreFiles
{
    /// <summary>A context on <paramref name="path"/> with the server's history table, for running EF Core's own migrator.</summary>
    internal static FeedbackDb Migrations(string path) => new(new DbContextOptionsBuilder<FeedbackDb>()
        .UseSqlite($"Data Source={path};Pooling=False", sqlite => sqlite.MigrationsHistoryTable("__ef_migrations_history"))
        .Options);

    /// <summary>An open connection to <paramref name="path"/>, unpooled so the file can be deleted after.</summary>
    public static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        return connection;
    }

    /// <summary>The first column of every row <paramref name="sql"/> returns, as invariant text.</summary>
    public static List<string> Strings(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!);
        }

        return values;
    }
}
