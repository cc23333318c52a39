using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Feedback.Cli.Store;
using Feedback.Storage;
using Spectre.Console;

namespace Feedback.Cli;

/// <summary>stats: what the store holds, by sentiment, topic and method, and the alerts still open, from the rollups.</summary>
internal static class StatsCommand
{
    public static Command Definition()
    {
        var since = CommandLine.Date("--since", "Only messages received at or after this date or time (ISO 8601, e.g. 2026-01-01; UTC unless it names an offset).");
        var json = new Option<bool>("--json") { Description = "The counts as one JSON object." };
        var command = new Command("stats", "Counts by sentiment, topic and method, and the alerts still open, from the store.") { since, json };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed.GetValue(since), parsed.GetValue(json), cancellationToken));
        return command.WithExamples("./run.sh stats", "./run.sh stats --since 2026-11-01 --json");
    }

    /// <summary>
    /// The counts are sums of the rollups GET /stats reads (RollupReads), so a store of any size answers at once and the
    /// figures are the API's for the same range: from the hour <paramref name="since"/> falls in (as GET /stats widens
    /// its from to whole buckets) to the end of time.
    /// </summary>
    private static async Task<int> RunAsync(DateTime? since, bool json, CancellationToken cancellationToken)
    {
        await using var connection = CliStore.Open(CliStore.Settings());
        var from = since is { } at ? new DateTime(at.Ticks - (at.Ticks % TimeSpan.TicksPerHour), DateTimeKind.Utc) : DateTime.MinValue;
        var sums = await RollupReads.TotalsAsync(connection, from, EndOfTime, cancellationToken);
        List<(string Name, long Count)> Count(Func<RollupSum, string> key) =>
            [.. sums.GroupBy(key, StringComparer.Ordinal).Select(g => (g.Key, g.Sum(r => r.Count))).Where(r => r.Item2 != 0).OrderByDescending(r => r.Item2).ThenBy(r => r.Key, StringComparer.Ordinal)];

        var sentiment = Count(r => r.Sentiment);
        var topic = Count(r => r.Topic);
        var method = Count(r => r.Method);
        var total = sentiment.Sum(s => s.Count);
        var triggered = sums.Where(r => r.Alert).Sum(r => r.Count);

        // Open alerts are read through the (state, created_at) index: they are as many as are still open, not all ever raised.
        await using var scalar = connection.Command("SELECT count(*) FROM alerts WHERE state = 'open'");
        var open = Convert.ToInt64(await scalar.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["total"] = total,
                ["since"] = since,
                ["alerts_triggered"] = triggered,
                ["alerts_open"] = open,
                ["sentiment"] = sentiment.ToDictionary(r => r.Name, r => r.Count, StringComparer.Ordinal),
                ["topic"] = topic.ToDictionary(r => r.Name, r => r.Count, StringComparer.Ordinal),
                ["processing_method"] = method.ToDictionary(r => r.Name, r => r.Count, StringComparer.Ordinal),
            }));
            return CommandLine.Ok;
        }


        AnsiConsole.MarkupLine(since is null
            ? $"[bold]{total:N0}[/] messages stored"
            : $"[bold]{total:N0}[/] messages since {from:yyyy-MM-dd HH:mm} UTC");
        AnsiConsole.MarkupLine($"[bold]{triggered:N0}[/] triggered an alert; [bold red]{open:N0}[/] alerts open");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn(new TableColumn("messages").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
        void Section(string title, List<(string Name, long Count)> rows)
        {
            table.AddRow(new Markup($"[bold]{title}[/]"), new Text(""), new Text(""));
            foreach (var (name, count) in rows)
            {
                table.AddRow(Markup.Escape("  " + name), count.ToString("N0", CultureInfo.InvariantCulture), total == 0 ? "" : $"{100.0 * count / total:0.0} %");
            }
        }

        Section("sentiment", sentiment);
        Section("topic", topic);
        Section("method", method);
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>Later than any stored message, and a whole day, so the totals read daily sums up to it.</summary>
    private static readonly DateTime EndOfTime = new(9999, 1, 1, 0, 0, 0, DateTimeKind.Utc);
}
