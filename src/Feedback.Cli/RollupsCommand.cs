using System.CommandLine;
using System.Text.Json;
using Feedback.Cli.Store;
using Feedback.Storage;
using Spectre.Console;

namespace Feedback.Cli;

/// <summary>
/// rollups rebuild: counts the rollups GET /stats reads again from the stored rows (the hourly ones, their daily and
/// hour x sentiment sums, and the alert counters). The migrations that add them fill them, and every writer keeps them, so this is the repair for a store whose rollups are doubted (a restore of
/// the feedback table alone, rows changed by hand in SQL).
/// </summary>
internal static class RollupsCommand
{
    public static Command Definition()
    {
        var json = new Option<bool>("--json") { Description = "The result as one JSON object: {\"messages\": N}." };
        var rebuild = new Command(
            "rebuild",
            "Count the rollups again from the stored messages, in one transaction (writers wait for it; readers do not).") { json };
        rebuild.SetAction((parsed, cancellationToken) => RebuildAsync(parsed.GetValue(json), cancellationToken));
        rebuild.WithExamples("./run.sh rollups rebuild", "./run.sh rollups rebuild --json");
        var command = new Command("rollups", "The hourly counts GET /stats and the dashboard read.") { rebuild };
        return command.WithExamples("./run.sh rollups rebuild", "DATABASE_URL=postgres://... ./run.sh rollups rebuild --json");
    }

    private static async Task<int> RebuildAsync(bool json, CancellationToken cancellationToken)
    {
        var settings = CliStore.Settings();
        await using var connection = CliStore.Open(settings);
        var messages = await RollupsSql.RebuildAsync(connection, cancellationToken);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, long>(StringComparer.Ordinal) { ["messages"] = messages }));
        }
        else
        {
            AnsiConsole.MarkupLine($"Rollups rebuilt: [bold]{messages:N0}[/] messages counted.");
        }

        return CommandLine.Ok;
    }
}
