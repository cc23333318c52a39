using System.Globalization;
using Feedback.Cli.Store;
using Spectre.Console;

namespace Feedback.Cli;

/// <summary>stats: what the store holds, by sentiment, topic and method, and the alerts still open.</summary>
internal static class StatsCommand
{
    public static int Run(string[] args)
    {
        DateTime since = DateTime.MinValue;
        if (args is ["--since", var text] )
        {
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                Console.Error.WriteLine("Usage: stats [--since DATE]");
                return 2;
            }

            since = at.UtcDateTime;
        }
        else if (args.Length > 0)
        {
            Console.Error.WriteLine("Usage: stats [--since DATE]");
            return 2;
        }

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

        AnsiConsole.MarkupLine(since == DateTime.MinValue
            ? $"[bold]{total:N0}[/] messages stored"
            : $"[bold]{total:N0}[/] messages since {since:yyyy-MM-dd HH:mm} UTC");
        AnsiConsole.MarkupLine($"[bold]{alerts.GetInt64(0):N0}[/] triggered an alert; [bold red]{alerts.GetInt64(1):N0}[/] alerts open");
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
