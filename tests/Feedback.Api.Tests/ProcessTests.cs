using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>The built service as a separate process: what a crash or a bad setting does to it.</summary>
public sealed class ProcessTests : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("feedback-process-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task Every_acknowledged_message_survives_kill_9()
    {
        using var server = ServerProcess.Start(Settings());
        (await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(60))).ShouldBeTrue(server.Output);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Add("X-API-Key", FeedbackApp.Key);
        var acknowledged = new ConcurrentBag<long>();
        using var stop = new CancellationTokenSource();

        // 16 writers post as fast as they can; the process is killed while requests are in flight.
        var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    var response = await client.PostAsJsonAsync(new Uri("/feedback", UriKind.Relative), new { text = $"Writer {w} message {i}: checkout fails with an error." });
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        acknowledged.Add((await response.Content.ReadFromJsonAsync<Created>())!.Id);
                    }
                }
                catch (HttpRequestException)
                {
                    return;
                }
            }
        })).ToArray();
        while (acknowledged.Count < 300)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        server.Kill();
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        var stored = new HashSet<long>();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dataDir, "feedback.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id FROM feedback";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                stored.Add(reader.GetInt64(0));
            }
        }

        acknowledged.Count.ShouldBeGreaterThanOrEqualTo(300);
        acknowledged.Where(id => !stored.Contains(id)).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("CACHE_MAX_SIZE", "lots")]
    [InlineData("CACHE_TTL_SECONDS", "-5")]
    [InlineData("ALERT_MIN_CONFIDENCE", "very")]
    [InlineData("ALERT_SENSITIVITY", "paranoid")]
    [InlineData("DATABASE_URL", "mysql://localhost/feedback")]
    [InlineData("API_KEY", "short")]
    [InlineData("PORT", "eighty")]
    [InlineData("PORT", "70000")]
    [InlineData("HOST", "")]
    [InlineData("CLASSIFIER", "huge")]
    [InlineData("DEEP_DEADLINE_MS", "-1")]
    [InlineData("ENCODER_BATCH_SIZE", "0")]
    [InlineData("LLM_TOKEN_BUDGET_MONTHLY", "lots")]
    [InlineData("LLM_PRICE_OUTPUT_PER_1K", "-1")]
    public async Task An_invalid_setting_stops_the_start_with_a_message_naming_it(string name, string value)
    {
        var settings = Settings();
        settings[name] = value;

        using var server = ServerProcess.Start(settings);
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.ShouldNotBe(0);
        server.Output.ShouldContain(name);
        server.Output.ShouldNotContain("   at ");
    }

    [Theory]
    [InlineData("SLACK_WEBHOOK_URL", "hooks.slack.example/services/T0/B0/SecretPart4711")]
    [InlineData("ALERT_WEBHOOK_URL", "ftp://user:SecretPart4711@example.invalid/hook")]
    public async Task An_invalid_webhook_url_stops_the_start_naming_the_variable_but_not_its_secret(string name, string value)
    {
        var settings = Settings();
        settings[name] = value;

        using var server = ServerProcess.Start(settings);
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.ShouldNotBe(0);
        server.Output.ShouldContain(name);
        server.Output.ShouldNotContain("SecretPart4711");
    }

    [Fact]
    public async Task A_data_dir_that_is_a_file_stops_the_start_with_a_message_naming_it()
    {
        var file = Path.Combine(_dataDir, "not-a-folder");
        File.WriteAllText(file, "");
        var settings = Settings();
        settings["DATA_DIR"] = file;

        using var server = ServerProcess.Start(settings);
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.ShouldNotBe(0);
        server.Output.ShouldContain("DATA_DIR");
        server.Output.ShouldNotContain("   at ");
    }

    [Fact]
    public async Task A_damaged_database_file_stops_the_start_with_a_clear_message()
    {
        File.WriteAllBytes(Path.Combine(_dataDir, "feedback.db"), [.. Enumerable.Repeat((byte)0x5A, 8192)]);

        using var server = ServerProcess.Start(Settings());
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.ShouldNotBe(0);
        server.Output.ShouldContain("damaged");
        server.Output.ShouldNotContain("   at ");
    }

    [Fact]
    public async Task A_variable_in_the_environment_wins_over_dot_env()
    {
        var workingDirectory = Directory.CreateDirectory(Path.Combine(_dataDir, "cwd")).FullName;
        File.WriteAllLines(Path.Combine(workingDirectory, ".env"),
        [
            "# written by the test",
            $"API_KEY=\"{FeedbackApp.SecondKey}\"",
            "CACHE_MAX_SIZE=not-a-number",
        ]);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DATA_DIR"] = _dataDir,
            ["CACHE_MAX_SIZE"] = "50",
        };

        using var server = ServerProcess.Start(settings, workingDirectory);
        (await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(60))).ShouldBeTrue(server.Output);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Add("X-API-Key", FeedbackApp.SecondKey);

        var response = await client.PostAsJsonAsync(new Uri("/feedback", UriKind.Relative), new { text = "The key came from the .env file." }, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    private Dictionary<string, string> Settings() => new(StringComparer.Ordinal)
    {
        ["API_KEY"] = FeedbackApp.Key,
        ["DATA_DIR"] = _dataDir,
        ["RATE_LIMIT_PER_MINUTE"] = "0",
    };

    private sealed record Created(long Id);
}
