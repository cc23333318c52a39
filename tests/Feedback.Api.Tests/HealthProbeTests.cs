using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary><c>/health/live</c> and <c>/health/ready</c>, the endpoints an orchestrator probes, with no key, on either store.</summary>
public abstract class HealthProbeTests : IDisposable
{
    private readonly FeedbackApp _app;

    protected HealthProbeTests(StoreKind kind) =>
        _app = new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal) { ["SQLITE_BUSY_TIMEOUT_MS"] = "200" }, store: kind);

    protected FeedbackApp App => _app;

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Live_and_ready_answer_200_without_a_key_on_a_migrated_store()
    {
        var client = _app.Client(key: null);

        var live = await GetAsync(client, "/health/live");
        var ready = await GetAsync(client, "/health/ready");

        live.Status.ShouldBe(HttpStatusCode.OK);
        live.Body.Str("status").ShouldBe("healthy");
        ready.Status.ShouldBe(HttpStatusCode.OK);
        ready.Body.Str("status").ShouldBe("healthy");
        ready.Body.GetProperty("checks").Str("store_writable").ShouldBe("healthy");
        ready.Body.GetProperty("checks").Str("migrations_applied").ShouldBe("healthy");
    }

    [Fact]
    public async Task Ready_answers_503_when_a_migration_is_missing_from_the_store_and_live_stays_200()
    {
        var client = _app.Client(key: null);
        var last = _app.Scalar("SELECT count(*) FROM __ef_migrations_history");
        last.ShouldBeGreaterThan(0);
        _app.Execute("DELETE FROM __ef_migrations_history WHERE \"MigrationId\" = (SELECT max(\"MigrationId\") FROM __ef_migrations_history)");

        var ready = await GetAsync(client, "/health/ready");
        var live = await GetAsync(client, "/health/live");

        ready.Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        ready.Body.GetProperty("checks").Str("migrations_applied").ShouldBe("unhealthy");
        live.Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Health_keeps_the_contract_body_beside_the_probes()
    {
        var health = await GetAsync(_app.Client(key: null), "/health");

        health.Status.ShouldBe(HttpStatusCode.OK);
        health.Body.Str("status").ShouldBe("ok");
        health.Body.Str("ai_provider").ShouldNotBeNull();
        health.Body.Str("ml_fallback").ShouldBe("available");
        health.Body.Str("database").ShouldBe("ok");
    }

    protected static async Task<(HttpStatusCode Status, System.Text.Json.JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.JsonAsync());
    }
}

public sealed class HealthProbeOnSqliteTests() : HealthProbeTests(StoreKind.Sqlite)
{
    [Fact]
    public async Task Ready_answers_503_while_the_store_is_locked_and_live_stays_200()
    {
        var client = App.Client(key: null);
        using var holder = App.OpenDatabase();
        using var lockCommand = holder.CreateCommand();
        lockCommand.CommandText = "BEGIN EXCLUSIVE";
        lockCommand.ExecuteNonQuery();

        // A write refused by the lock, as a client would see it, is what the store's health remembers.
        (await App.Client().PostFeedbackAsync(new { text = "Written while the database is locked." })).StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var ready = await GetAsync(client, "/health/ready");
        var live = await GetAsync(client, "/health/live");

        lockCommand.CommandText = "ROLLBACK";
        lockCommand.ExecuteNonQuery();
        ready.Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        ready.Body.GetProperty("checks").Str("store_writable").ShouldBe("unhealthy");
        live.Status.ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class HealthProbeOnPostgresTests() : HealthProbeTests(StoreKind.Postgres);
