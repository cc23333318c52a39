using System.Net;
using System.Security.Cryptography;
using System.Text;
using Feedback.Api.Security;
using Feedback.Api.Tests.Infrastructure;
using Feedback.Storage;
using Feedback.Storage.Postgres;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// What is stored for an Idempotency-Key (issue 21 item 13): a fixed-length digest of the key's name and the header, so
/// the longest valid header under the longest key name fits the PostgreSQL column, and rows stored before as
/// <c>NAME:HEADER</c> are still found after the upgrade.
/// </summary>
public abstract class IdempotencyKeyStorageTests : IDisposable
{
    private const string Complaint = "I was charged twice for my subscription this month and nobody answers my emails.";
    private const string Body = $$"""{"text": "{{Complaint}}"}""";

    private readonly StoreKind _store;
    private readonly string _keysFile = Path.Combine(Directory.CreateTempSubdirectory("feedback-keys-").FullName, "api-keys.txt");

    protected IdempotencyKeyStorageTests(StoreKind store) => _store = store;

    public void Dispose()
    {
        Directory.Delete(Path.GetDirectoryName(_keysFile)!, recursive: true);
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task The_longest_key_under_the_longest_key_name_is_stored_and_replayed()
    {
        var name = new string('n', 64);
        const string secret = "fb_long-named-key-secret";
        File.WriteAllLines(_keysFile, [$"{name} ingest,read sha256:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)))}"]);
        using var app = new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal) { ["API_KEYS_FILE"] = _keysFile }, store: _store);
        var header = new string('k', 255);

        var first = await PostAsync(app.Client(secret), header);
        var again = await PostAsync(app.Client(secret), header);

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        again.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await again.JsonAsync()).GetProperty("id").GetInt64().ShouldBe((await first.JsonAsync()).GetProperty("id").GetInt64());
        app.Scalar("SELECT count(*) FROM feedback").ShouldBe(1);
        app.Scalar($"SELECT count(*) FROM feedback WHERE idempotency_key = '{IdempotencyKeyDigest.Of(name, header)}'").ShouldBe(1);
        app.Scalar("SELECT max(length(idempotency_key)) FROM feedback").ShouldBe(64);
    }

    [Fact]
    public async Task A_key_stored_as_name_and_header_before_the_upgrade_is_replayed_after_it()
    {
        var keyName = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(FeedbackApp.Key)).AsSpan(0, 6));
        var bodyHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Body)));
        const long oldId = 41;
        var dataDir = Directory.CreateTempSubdirectory("feedback-test-").FullName;
        var database = _store == StoreKind.Postgres ? PostgresDatabase.Create() : null;
        try
        {
            var insert =
                "INSERT INTO feedback (id, text, sentiment, topic, confidence, confidence_score, score_positive, score_negative, score_neutral, " +
                "score_mixed, alert_triggered, processing_method, language, model, status, warnings, created_at, idempotency_key, request_hash) VALUES " +
                $"({oldId}, '{Complaint}', 'negative', 'billing', 0.9, 'high', 0.02, 0.9, 0.05, 0.03, {(database is null ? "1" : "true")}, 'ml_fallback', 'en', " +
                $"'local', 'final', '[]', '2026-11-20 10:00:00', '{keyName}:before-upgrade', '{bodyHash}'), " +
                $"({oldId + 1}, 'An imported row.', 'neutral', 'general', 0.9, 'high', 0.02, 0.05, 0.9, 0.03, {(database is null ? "0" : "false")}, 'ml_fallback', 'en', " +
                "'local', 'final', '[]', '2026-11-20 10:00:00', 'import:abc', NULL)";
            if (database is null)
            {
                StoreBeforeTheUpgrade(Path.Combine(dataDir, "feedback.db"), insert);
            }
            else
            {
                StoreBeforeTheUpgrade(database, insert);
            }

            using var app = database is null ? new FeedbackApp(dataDir: dataDir) : new FeedbackApp(database);
            var replay = await PostAsync(app.Client(), "before-upgrade");

            replay.StatusCode.ShouldBe(HttpStatusCode.Created);
            (await replay.JsonAsync()).GetProperty("id").GetInt64().ShouldBe(oldId);
            app.Scalar("SELECT count(*) FROM feedback").ShouldBe(2);
            app.Scalar("SELECT count(*) FROM feedback WHERE idempotency_key = 'import:abc'").ShouldBe(1);
        }
        finally
        {
            database?.Dispose();
            SqliteConnection.ClearAllPools();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/feedback") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>A SQLite file at the schema before the digests (the Labels migration), holding <paramref name="insert"/>'s rows.</summary>
    private static void StoreBeforeTheUpgrade(string path, string insert)
    {
        var options = new DbContextOptionsBuilder<FeedbackDb>()
            .UseSqlite($"Data Source={path}", sqlite => sqlite.MigrationsHistoryTable("__ef_migrations_history"))
            .Options;
        using (var db = new FeedbackDb(options))
        {
            db.GetService<IMigrator>().Migrate("20261207033744_Labels");
            db.Database.ExecuteSqlRaw(insert);
        }

        SqliteConnection.ClearAllPools();
    }

    /// <summary>The same on PostgreSQL.</summary>
    private static void StoreBeforeTheUpgrade(PostgresDatabase database, string insert)
    {
        var options = new DbContextOptionsBuilder<PostgresFeedbackDb>()
            .UseNpgsql(database.ConnectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
            .Options;
        using var db = new PostgresFeedbackDb(options);
        db.GetService<IMigrator>().Migrate("20261207033801_Labels");
        db.Database.ExecuteSqlRaw(insert);
        db.Database.ExecuteSqlRaw("SELECT setval(pg_get_serial_sequence('feedback', 'id'), 100)");
    }
}

public sealed class IdempotencyKeyStorageOnSqliteTests() : IdempotencyKeyStorageTests(StoreKind.Sqlite);

public sealed class IdempotencyKeyStorageOnPostgresTests() : IdempotencyKeyStorageTests(StoreKind.Postgres);

/// <summary>Key names scope stored idempotency keys, so they may not hold ':' (two names could then share a stored key).</summary>
public sealed class ApiKeyNameTests
{
    [Theory]
    [InlineData("partner:eu")]
    [InlineData("partner/eu")]
    [InlineData("naïve")]
    public void A_keys_file_naming_a_key_outside_the_rule_is_refused(string name)
    {
        Should.Throw<FormatException>(() => ApiKeyStore.ParseFile([$"{name} ingest sha256:{new string('a', 64)}"]))
            .Message.ShouldContain("NAME must be");
    }

    [Fact]
    public void A_keys_file_with_letters_digits_dots_dashes_and_underscores_in_names_is_read()
    {
        var keys = ApiKeyStore.ParseFile([$"Partner-eu_2.prod ingest sha256:{new string('a', 64)}"]);

        keys.ShouldHaveSingleItem().Name.ShouldBe("Partner-eu_2.prod");
    }
}
