using System.Data.Common;
using System.Globalization;
using Npgsql;

namespace Feedback.Storage;

/// <summary>
/// One sum of the rollups: its bucket (<c>yyyy-MM-dd HH</c> or <c>yyyy-MM-dd</c>; empty in a range's totals) and the
/// labels it was counted under (empty where the sum runs over them).
/// </summary>
internal sealed record RollupSum(string Bucket, string Sentiment, string Topic, string Method, bool Alert, long Count);

/// <summary>
/// The sums GET /stats and the CLI's stats command read, so both give the same figures for the same range. A range's
/// totals read the daily rollups for its whole days and the hourly ones only for the hours at either end; an hour series
/// reads the hour x sentiment x alert sums and a day series the daily ones. Each read so grows with the days and hours
/// asked for and the keys present (at most 144 a day), never with the messages stored. Keys whose count fell to zero
/// (their messages revised or erased) are left out, as no row would have named them.
/// </summary>
internal static class RollupReads
{
    /// <summary>The counts by sentiment, topic, method and alert of the whole hours [from, to).</summary>
    public static async Task<List<RollupSum>> TotalsAsync(DbConnection connection, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        var postgres = connection is NpgsqlConnection;

        // Whole days inside the range come from the daily sums, the hours before the first and after the last from the
        // hourly ones; a range without a whole day reads hours alone.
        var daysFrom = from.TimeOfDay == TimeSpan.Zero ? from : from.Date.AddDays(1);
        var daysTo = to.Date;
        if (daysFrom >= daysTo)
        {
            daysFrom = daysTo = to;
        }

        var sql = postgres
            ? """
              SELECT '', sentiment, topic, processing_method, alert_triggered, sum(count)::bigint FROM (
                  SELECT sentiment, topic, processing_method, alert_triggered, count FROM feedback_rollups_daily WHERE day >= @days_from AND day < @days_to
                  UNION ALL
                  SELECT sentiment, topic, processing_method, alert_triggered, count FROM feedback_rollups WHERE hour >= @from AND hour < @days_from
                  UNION ALL
                  SELECT sentiment, topic, processing_method, alert_triggered, count FROM feedback_rollups WHERE hour >= @days_to AND hour < @to) AS r
              GROUP BY 2, 3, 4, 5 HAVING sum(count) <> 0
              """
            : """
              SELECT '', sentiment, topic, processing_method, alert_triggered, sum(count) FROM (
                  SELECT sentiment, topic, processing_method, alert_triggered, count FROM feedback_rollups_daily WHERE day >= @days_from_day AND day < @days_to_day
                  UNION ALL
                  SELECT sentiment, topic, processing_method, alert_triggered, count FROM feedback_rollups WHERE hour >= @from AND hour < @days_from
                  UNION ALL
                  SELECT sentiment, topic, processing_method, alert_triggered, count FROM feedback_rollups WHERE hour >= @days_to AND hour < @to)
              GROUP BY 2, 3, 4, 5 HAVING sum(count) <> 0
              """;
        return await ReadAsync(connection, sql, postgres, [("from", from), ("to", to), ("days_from", daysFrom), ("days_to", daysTo)], cancellationToken);
    }

    /// <summary>
    /// The counts by bucket (hour, or day when <paramref name="hourly"/> is false), sentiment and alert of [from, to), whole
    /// buckets. An hour series reads the rows of feedback_rollups_sentiment as they are, since its key is the series' own
    /// (grouping them again cost PostgreSQL a hash aggregate over numeric sums, 8-11 ms of 11 at 5,760 rows: bench/RESULTS.md).
    /// </summary>
    public static async Task<List<RollupSum>> SeriesAsync(DbConnection connection, DateTime from, DateTime to, bool hourly, CancellationToken cancellationToken)
    {
        var postgres = connection is NpgsqlConnection;
        var sql = (postgres, hourly) switch
        {
            (true, true) => """
                SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24'), sentiment, '', '', alert_triggered, count
                FROM feedback_rollups_sentiment WHERE hour >= @from AND hour < @to AND count <> 0
                """,
            (true, false) => """
                SELECT to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD'), sentiment, '', '', alert_triggered, sum(count)::bigint
                FROM feedback_rollups_daily WHERE day >= @from AND day < @to
                GROUP BY day, sentiment, alert_triggered HAVING sum(count) <> 0
                """,
            (false, true) => """
                SELECT substr(hour, 1, 13), sentiment, '', '', alert_triggered, count
                FROM feedback_rollups_sentiment WHERE hour >= @from AND hour < @to AND count <> 0
                """,
            (false, false) => """
                SELECT day, sentiment, '', '', alert_triggered, sum(count)
                FROM feedback_rollups_daily WHERE day >= @from_day AND day < @to_day
                GROUP BY day, sentiment, alert_triggered HAVING sum(count) <> 0
                """,
        };
        return await ReadAsync(connection, sql, postgres, [("from", from), ("to", to)], cancellationToken);
    }

    /// <summary>Alerts raised in the whole hours [from, to), by their state now, from the alert counters (alert_rollups).</summary>
    public static async Task<Dictionary<string, long>> AlertsByStateAsync(DbConnection connection, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        var postgres = connection is NpgsqlConnection;
        var sql = postgres
            ? "SELECT '', state, '', '', false, sum(count)::bigint FROM alert_rollups WHERE hour >= @from AND hour < @to GROUP BY state HAVING sum(count) <> 0"
            : "SELECT '', state, '', '', 0, sum(count) FROM alert_rollups WHERE hour >= @from AND hour < @to GROUP BY state HAVING sum(count) <> 0";
        var sums = await ReadAsync(connection, sql, postgres, [("from", from), ("to", to)], cancellationToken);
        return sums.ToDictionary(s => s.Sentiment, s => s.Count, StringComparer.Ordinal);
    }

    /// <summary>
    /// Runs <paramref name="sql"/> with each time as a parameter: a UTC time on PostgreSQL; on SQLite the text the rollups
    /// store (<c>@name</c> as an hour, <c>@name_day</c> as a day), which orders as time.
    /// </summary>
    private static async Task<List<RollupSum>> ReadAsync(
        DbConnection connection, string sql, bool postgres, (string Name, DateTime Value)[] times, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in times)
        {
            if (postgres)
            {
                Add(command, name, DateTime.SpecifyKind(value, DateTimeKind.Utc));
            }
            else
            {
                Add(command, name, value.ToString("yyyy-MM-dd HH':00:00'", CultureInfo.InvariantCulture));
                Add(command, name + "_day", value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            }
        }

        var sums = new List<RollupSum>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            sums.Add(new RollupSum(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(4), reader.GetInt64(5)));
        }

        return sums;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        if (!command.CommandText.Contains("@" + name, StringComparison.Ordinal))
        {
            return;
        }

        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
