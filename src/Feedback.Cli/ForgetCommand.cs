using System.CommandLine;
using System.Text.Json;
using Feedback.Cli.Store;
using Feedback.Storage;
using Spectre.Console;

namespace Feedback.Cli;

/// <summary>forget: erase one customer's data from the store, as DELETE /customers/{customer_id}/feedback does.</summary>
internal static class ForgetCommand
{
    public static Command Definition()
    {
        var customer = new Argument<string>("customer-id") { Description = "The customer_id their messages were posted with." };
        var json = new Option<bool>("--json") { Description = "The result as one JSON object: {\"deleted\": N}." };
        var command = new Command("forget", "Erase one customer's messages with their revisions, labels, alert rows and alert excerpts (right to erasure).") { customer, json };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed.GetValue(customer)!, parsed.GetValue(json), cancellationToken));
        return command.WithExamples("./run.sh forget c-42", "./run.sh forget c-42 --json");
    }

    private static async Task<int> RunAsync(string customerId, bool json, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(customerId) || customerId.Length > CustomerErasure.MaxCustomerIdLength)
        {
            await Console.Error.WriteLineAsync($"The customer id must be 1 to {CustomerErasure.MaxCustomerIdLength} characters.");
            return CommandLine.Usage;
        }

        var settings = CliStore.Settings();
        if (!CliStore.MayHoldRows(settings))
        {
            // No store yet: nothing of anyone's to erase, and no file is made for it.
            return Report(0, customerId, json);
        }

        await using var connection = CliStore.Open(settings);
        var erased = await CustomerErasure.EraseAsync(connection, customerId, cancellationToken);
        return Report(erased.Count, customerId, json);
    }

    private static int Report(int deleted, string customerId, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, int>(StringComparer.Ordinal) { ["deleted"] = deleted }));
        }
        else
        {
            AnsiConsole.MarkupLine(deleted == 0
                ? $"No messages of customer [bold]{Markup.Escape(customerId)}[/] are stored."
                : $"Erased [bold]{deleted:N0}[/] messages of customer [bold]{Markup.Escape(customerId)}[/], with their revisions, labels and alert excerpts. " +
                  "A running server drops them from its similarity index when it restarts, or at once through DELETE /customers/{customer_id}/feedback.");
        }

        return CommandLine.Ok;
    }
}
