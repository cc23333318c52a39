using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary><c>key add</c> and <c>key revoke</c> against a real server process that runs on the settings run.sh writes.</summary>
public sealed partial class CliKeyTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-keys-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_key_from_key_add_is_accepted_by_a_server_on_the_default_settings_until_it_is_revoked()
    {
        // The .env run.sh writes on a first run: .env.example with a fresh API_KEY, API_KEYS_FILE left empty,
        // DATA_DIR ./data, here under the test's own folder, which is the working directory of both processes.
        var example = File.ReadAllText(Path.Combine(Repository.Root, ".env.example"));
        File.WriteAllText(Path.Combine(_directory, ".env"), ApiKeyLine().Replace(example, "API_KEY=" + FeedbackApp.Key));
        var none = new Dictionary<string, string>(StringComparer.Ordinal);

        var (added, addOutput) = await CliProcess.RunAsync(_directory, none, "key", "add", "collector", "--scopes", "ingest");
        added.ShouldBe(0, addOutput);
        var key = PrintedKey().Match(addOutput).Value;
        key.ShouldNotBeEmpty(addOutput);

        using var server = ServerProcess.Start(new Dictionary<string, string>(StringComparer.Ordinal) { ["RATE_LIMIT_PER_MINUTE"] = "0" }, _directory);
        (await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(60))).ShouldBeTrue(server.Output);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Add("X-API-Key", key);

        (await PostAsync(client)).ShouldBe(HttpStatusCode.Created, server.Output);

        var (revoked, revokeOutput) = await CliProcess.RunAsync(_directory, none, "key", "revoke", "collector");
        revoked.ShouldBe(0, revokeOutput);

        // The server re-reads the file about once a second: ask until it has, or give up well after.
        var status = HttpStatusCode.Created;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (status != HttpStatusCode.Unauthorized && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            status = await PostAsync(client);
        }

        status.ShouldBe(HttpStatusCode.Unauthorized, server.Output);
    }

    private static async Task<HttpStatusCode> PostAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync(new Uri("/feedback", UriKind.Relative), new { text = "The checkout page fails with an error every time." });
        return response.StatusCode;
    }

    [GeneratedRegex("^API_KEY=.*$", RegexOptions.Multiline, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ApiKeyLine();

    [GeneratedRegex("fb_[0-9a-f]{48}", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex PrintedKey();
}
