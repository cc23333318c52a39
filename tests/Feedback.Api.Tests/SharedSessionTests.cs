using System.Net;
using System.Net.Http.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Issue #21 item 6: the dashboard's session cookie is sealed with Data Protection keys kept in the store, so any
/// instance on the same database opens it (nginx may send the next request anywhere) and a restart keeps it.
/// </summary>
public sealed class SharedSessionTests : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("feedback-session-").FullName;
    private readonly List<ServerProcess> _servers = [];

    public void Dispose()
    {
        foreach (var server in _servers)
        {
            server.Dispose();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task A_cookie_issued_by_one_postgres_instance_is_accepted_by_another_and_after_a_restart()
    {
        using var database = PostgresDatabase.Create();
        var first = await StartAsync(database, "first");
        var second = await StartAsync(database, "second");

        var cookie = await SignInAsync(first);

        (await SignedInAsync(second, cookie)).ShouldBeTrue("the other instance opens the cookie");
        (await GetAsync(second, cookie, "/dashboard/alerts")).ShouldBe(HttpStatusCode.OK);

        // A cookie the second instance issues is opened by the first, too: both use one key ring.
        (await SignedInAsync(first, await SignInAsync(second))).ShouldBeTrue();

        // kill -9 and a new process: the keys were in the database, not in the process.
        second.Kill();
        var restarted = await StartAsync(database, "second");
        (await SignedInAsync(restarted, cookie)).ShouldBeTrue("a restart keeps the session");
        (await GetAsync(restarted, cookie, "/stats")).ShouldBe(HttpStatusCode.OK);
        CountKeys(database).ShouldBe(1, "the first instance made the key ring's one key and the others read it");
    }

    [Fact]
    public async Task A_sqlite_servers_session_survives_a_restart()
    {
        var before = await StartAsync(null, "sqlite");
        var cookie = await SignInAsync(before);
        before.Kill();

        var after = await StartAsync(null, "sqlite");

        (await SignedInAsync(after, cookie)).ShouldBeTrue();
    }

    [Fact]
    public async Task A_forged_or_foreign_cookie_is_still_refused_by_an_instance_with_stored_keys()
    {
        using var database = PostgresDatabase.Create();
        var server = await StartAsync(database, "only");
        await SignInAsync(server);

        // Sealed by a server on another store: a different key ring, so not a session here.
        var stranger = await StartAsync(null, "stranger");
        var foreign = await SignInAsync(stranger);

        (await SignedInAsync(server, foreign)).ShouldBeFalse();
        (await GetAsync(server, foreign, "/dashboard/alerts")).ShouldBe(HttpStatusCode.Unauthorized);
    }

    private static long CountKeys(PostgresDatabase database)
    {
        using var connection = database.Open();
        using var command = new Npgsql.NpgsqlCommand("SELECT COUNT(*) FROM data_protection_keys", connection);
        return (long)command.ExecuteScalar()!;
    }

    private async Task<ServerProcess> StartAsync(PostgresDatabase? database, string name)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["API_KEY"] = FeedbackApp.Key,
            ["DATA_DIR"] = Path.Combine(_dataDir, name),
            ["RATE_LIMIT_PER_MINUTE"] = "0",
        };
        if (database is not null)
        {
            settings["DATABASE_URL"] = database.ConnectionString;
        }

        var server = ServerProcess.Start(settings);
        _servers.Add(server);
        (await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(60))).ShouldBeTrue(server.Output);
        return server;
    }

    /// <summary>Signs in as the page does and returns the cookie as a browser would send it back.</summary>
    private static async Task<string> SignInAsync(ServerProcess server)
    {
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        var response = await client.PostAsJsonAsync(new Uri("/dashboard/session", UriKind.Relative), new { key = FeedbackApp.Key }, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        return response.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
    }

    private static async Task<bool> SignedInAsync(ServerProcess server, string cookie)
    {
        using var client = CookieClient(server, cookie);
        var session = await (await client.GetAsync(new Uri("/dashboard/session", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
        return session.GetProperty("signed_in").GetBoolean();
    }

    private static async Task<HttpStatusCode> GetAsync(ServerProcess server, string cookie, string path)
    {
        using var client = CookieClient(server, cookie);
        return (await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode;
    }

    private static HttpClient CookieClient(ServerProcess server, string cookie)
    {
        var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Add("Cookie", cookie);
        return client;
    }
}
