using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Feedback.Cli.Store;
using Spectre.Console;

namespace Feedback.Cli;

/// <summary>stats: what the store holds, by sentiment, topic and method, and the alerts still open.</summary>
internal static class StatsCommand
{
    public static Command Definition()
    {
        var since = CommandLine.Date("--since", "Only messages received at or after this date or time (ISO 8601, e.g. 2026-01-01; UTC unless it names an offset).");
        var json = new Option<bool>("--json") { Description = "The counts as one JSON object." };
        var command = new Command("stats", "Counts by sentiment, topic and method, and the alerts still open, from the store.") { since, json };
        command.SetAction(parsed => Run(parsed.GetValue(since) ?? DateTime.MinValue, parsed.GetValue(json)));
        return command.WithExamples("./run.sh stats", "./run.sh stats --since 2026-11-01 --json");
    }

    private static int Run(DateTime since, bool json)
    {
        using var connection = CliStore.Open(CliStore.Settings());
        List<(string Name, long Count)> Count(string column)
        {
            using var command = connection.Command(
                $"SELECT {column}, count(*) FROM feedback WHERE created_at >= @since GROUP BY {column} ORDER BY 2 DESC", ("since", since));
            using var reader = command.ExecuteReader();
            var rows = new List<(string, long)>();
            while (reader.Read())
            {
                rows.Add((reader.GetString(0), reader.GetInt64(1)));
            }

            return rows;
        }

        var sentiment = Count("sentiment");
        var topic = Count("topic");
        var method = Count("processing_method");
        var total = sentiment.Sum(s => s.Count);
        using var scalar = connection.Command(
            "SELECT (SELECT count(*) FROM feedback WHERE alert_triggered AND created_at >= @since), (SELECT count(*) FROM alerts WHERE state = 'open')",
            ("since", since));
        using var alerts = scalar.ExecuteReader();
        alerts.Read();
        var (triggered, open) = (alerts.GetInt64(0), alerts.GetInt64(1));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["total"] = total,
                ["since"] = since == DateTime.MinValue ? null : since,
                ["alerts_triggered"] = triggered,
                ["alerts_open"] = open,
                ["sentiment"] = sentiment.ToDictionary(r => r.Name, r => r.Count, StringComparer.Ordinal),
                ["topic"] = topic.ToDictionary(r => r.Name, r => r.Count, StringComparer.Ordinal),
                ["processing_method"] = method.ToDictionary(r => r.Name, r => r.Count, StringComparer.Ordinal),
            }));
            return CommandLine.Ok;
        }


        AnsiConsole.MarkupLine(since == DateTime.MinValue
            ? $"[bold]{total:N0}[/] messages stored"
            : $"[bold]{total:N0}[/] messages since {since:yyyy-MM-dd HH:mm} UTC");
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
}
