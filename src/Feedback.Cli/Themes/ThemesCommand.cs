using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Themes;
using Feedback.Cli.Reclassify;
using Feedback.Cli.Store;
using Feedback.Storage;
using Spectre.Console;

namespace Feedback.Cli.Themes;

/// <summary>
/// themes --since WHEN [--until WHEN] [--min-size N] [--limit N] [--json]: what customers are talking about, from the
/// store. The stored messages of the window and of the window of equal length before it (for the growth) are clustered
/// as the server clusters them (<see cref="ThemeSnapshot"/>), on the vectors stored with them; messages without one
/// (<c>./run.sh reindex</c>) are not counted.
/// </summary>
internal static class ThemesCommand
{
    /// <summary>The newest messages clustered at most, as the server's THEMES_MAX_MESSAGES.</summary>
    private const int MaxMessages = 200_000;

    public static Command Definition()
    {
        var since = new Option<string>("--since") { Description = "The window starts at WHEN: a date or time (2026-11-01) or a duration back from now (12h, 7d, 2w).", HelpName = "when", DefaultValueFactory = _ => "7d" };
        var until = new Option<string>("--until") { Description = "The window ends at WHEN (default: now).", HelpName = "when", DefaultValueFactory = _ => "0m" };
        var minSize = new Option<int>("--min-size") { Description = "Themes with at least this many messages in the window.", DefaultValueFactory = _ => 3 };
        var limit = new Option<int>("--limit") { Description = "Themes shown at most, largest first.", DefaultValueFactory = _ => 20 };
        var json = new Option<bool>("--json") { Description = "One JSON object with GET /themes's field names." };
        var command = new Command("themes", "What customers are talking about: the themes of the stored messages of a window, with their growth.") { since, until, minSize, limit, json };
        command.SetAction(parsed =>
        {
            var now = CliApp.Time.GetUtcNow().UtcDateTime;
            if (!ReclassifyCommand.ReclassifyOptions.TryParseWhen(parsed.GetValue(since)!, now, out var from)
                || !ReclassifyCommand.ReclassifyOptions.TryParseWhen(parsed.GetValue(until)!, now, out var to))
            {
                Console.Error.WriteLine("--since and --until take a date or time (2026-11-01, 2026-11-01T12:00Z) or a duration (30m, 12h, 7d, 2w).");
                return CommandLine.Usage;
            }

            if (from >= to || parsed.GetValue(minSize) < 1 || parsed.GetValue(limit) < 1)
            {
                Console.Error.WriteLine("--since must be before --until; --min-size and --limit are 1 or more.");
                return CommandLine.Usage;
            }

            return Run(new ThemeWindow(from, to), parsed.GetValue(minSize), parsed.GetValue(limit), parsed.GetValue(json));
        });
        return command.WithExamples("./run.sh themes", "./run.sh themes --since 7d --json", "./run.sh themes --since 2026-11-01 --until 2026-12-01 --min-size 10");
    }

    private static int Run(ThemeWindow window, int minSize, int limit, bool json)
    {
        var settings = CliStore.Settings();
        if (!CliStore.MayHoldRows(settings))
        {
            Console.Error.WriteLine("No store yet: nothing has been stored.");
            return CommandLine.Failure;
        }

        var dimensions = SentenceEncoder.Dimensions;
        var sources = new List<ThemeSource>();
        var vectors = new List<float>();
        using (var connection = CliStore.OpenReadOnly(settings))
        {
            using var command = connection.Command(
                "SELECT id, created_at, sentiment, topic, text, embedding FROM feedback " +
                "WHERE created_at >= @from AND created_at < @to AND embedding IS NOT NULL ORDER BY id DESC LIMIT @max",
                ("from", window.From - (window.To - window.From)), ("to", window.To), ("max", MaxMessages));
            using var reader = command.ExecuteReader();
            var vector = new float[dimensions];
            while (reader.Read())
            {
                if (StoredEmbedding.TryDecode((byte[])reader.GetValue(5), vector))
                {
                    sources.Add(new ThemeSource(reader.GetInt64(0), DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
                    vectors.AddRange(vector);
                }
            }
        }

        var snapshot = ThemeSnapshot.Build(sources, [.. vectors], dimensions, new ThemeThresholds(), CliApp.Time.GetUtcNow().UtcDateTime);
        var (themes, outlierShare, messages) = snapshot.View(window, minSize);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["from"] = window.From,
                ["to"] = window.To,
                ["messages"] = messages,
                ["outlier_share"] = Math.Round(outlierShare, 4),
                ["themes"] = themes.Take(limit).Select(t => new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["id"] = t.Theme.Id,
                    ["label"] = t.Theme.Label,
                    ["keywords"] = t.Theme.Keywords,
                    ["size"] = t.Size,
                    ["sentiment"] = t.Sentiment,
                    ["topic"] = t.Topic,
                    ["first_at"] = t.FirstAt,
                    ["last_at"] = t.LastAt,
                    ["growth"] = t.Growth,
                    ["previous_size"] = t.PreviousSize,
                    ["example_ids"] = t.ExampleIds,
                }).ToList(),
            }));
            return CommandLine.Ok;
        }

        AnsiConsole.MarkupLine($"[bold]{themes.Count:N0}[/] themes in {messages:N0} messages from {window.From:yyyy-MM-dd HH:mm} to {window.To:yyyy-MM-dd HH:mm} UTC; {outlierShare * 100:0.0} % in no theme");
        if (themes.Count == 0)
        {
            return CommandLine.Ok;
        }

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("theme").AddColumn(new TableColumn("messages").RightAligned()).AddColumn(new TableColumn("before").RightAligned())
            .AddColumn(new TableColumn("negative").RightAligned()).AddColumn("examples");
        foreach (var theme in themes.Take(limit))
        {
            var negative = theme.Sentiment.GetValueOrDefault("negative") + theme.Sentiment.GetValueOrDefault("mixed");
            table.AddRow(
                Markup.Escape(theme.Theme.Label),
                theme.Size.ToString("N0", CultureInfo.InvariantCulture),
                theme.PreviousSize.ToString("N0", CultureInfo.InvariantCulture) + (theme.Growth is { } g ? $" ({(g >= 0 ? "+" : "")}{g * 100:0} %)" : " (new)"),
                $"{100.0 * negative / theme.Size:0} %",
                string.Join(' ', theme.ExampleIds.Take(3)));
        }

        AnsiConsole.Write(table);
        return CommandLine.Ok;
    }
}
