using System.Net;
using System.Net.Http.Json;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// What a SQLite server keeps out of its memory (issue #3's 150 MB): assemblies for features it is not configured
/// for are never loaded, so they are never mapped. Read from /proc, so only on Linux.
/// </summary>
public sealed class FootprintTests : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("feedback-footprint-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task A_sqlite_server_without_redis_loads_neither_npgsql_nor_redis_nor_xml_nor_expression_trees()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Reads /proc/PID/maps.");
        using var server = ServerProcess.Start(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["API_KEY"] = FeedbackApp.Key,
            ["DATA_DIR"] = _dataDir,
            ["RATE_LIMIT_PER_MINUTE"] = "0",
        });
        (await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(60))).ShouldBeTrue(server.Output);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Add("X-API-Key", FeedbackApp.Key);
        var response = await client.PostAsJsonAsync(
            new Uri("/feedback", UriKind.Relative), new { text = "The checkout page fails with an error every time." }, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.Created);

        var mapped = (await File.ReadAllLinesAsync($"/proc/{server.Id}/maps", TestContext.Current.CancellationToken))
            .Select(line => Path.GetFileName(line.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? ""))
            .Where(name => name.EndsWith(".dll", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

        // The assemblies the path did use are there, so the list is the server's and complete enough to judge by.
        mapped.ShouldContain("Feedback.Analysis.dll");
        mapped.ShouldContain("Microsoft.Data.Sqlite.dll");
        mapped.ShouldNotContain("Npgsql.dll");
        mapped.ShouldNotContain("StackExchange.Redis.dll");
        mapped.ShouldNotContain("System.Private.Xml.dll");

        // The request delegate generator binds the handlers at build time: no expression trees compiled at start.
        mapped.ShouldNotContain("System.Linq.Expressions.dll");
    }
}
