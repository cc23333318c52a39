using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Shouldly;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>
/// The real API in-process over a real SQLite file in a fresh temporary directory, or over a fresh database on the
/// test PostgreSQL server. Each instance is a separate service with its own data; <see cref="Restart"/> starts a new
/// host on the same data, and several instances can share one PostgreSQL database.
/// </summary>
public sealed class FeedbackApp : WebApplicationFactory<Program>
{
    public const string Key = "test-key-aaaaaaaaaaaaaaaa";
    public const string SecondKey = "test-key-bbbbbbbbbbbbbbbb";

    private readonly Dictionary<string, string> _settings;
    private readonly TimeProvider? _time;
    private bool _ownsDirectory;
    private bool _ownsDatabase;

    public FeedbackApp(Dictionary<string, string>? settings = null, TimeProvider? time = null, string? dataDir = null, StoreKind store = StoreKind.Sqlite)
        : this(settings, time, dataDir, store == StoreKind.Postgres ? PostgresDatabase.Create() : null)
    {
        _ownsDatabase = Database is not null;
    }

    /// <summary>An instance on a database the caller owns: several of them share it, as behind a load balancer.</summary>
    public FeedbackApp(PostgresDatabase database, Dictionary<string, string>? settings = null, TimeProvider? time = null)
        : this(settings, time, null, database)
    {
    }

    private FeedbackApp(Dictionary<string, string>? settings, TimeProvider? time, string? dataDir, PostgresDatabase? database)
    {
        Database = database;
        _ownsDirectory = dataDir is null;
        DataDir = dataDir ?? Directory.CreateTempSubdirectory("feedback-test-").FullName;
        _time = time;
        _settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["API_KEY"] = $"{Key},{SecondKey}",
            ["DATA_DIR"] = DataDir,
            // Tests send hundreds of requests with one key; the rate-limit tests set their own limit.
            ["RATE_LIMIT_PER_MINUTE"] = "0",
            // Most tests pin what the lexical model answers; DeepClassifierTests run the default, deep one.
            ["CLASSIFIER"] = "fast",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Feedback"] = "Critical",
        };
        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }

        if (database is not null)
        {
            _settings["DATABASE_URL"] = database.ConnectionString;
        }
    }

    /// <summary>The PostgreSQL database this app stores in, or null for the SQLite file.</summary>
    public PostgresDatabase? Database { get; }

    public string DataDir { get; }

    /// <summary>Runs after the host's own registrations, for a test that watches a seam at a process boundary.</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    /// <summary>Every log event the host wrote at the levels the settings let through.</summary>
    public LogCapture Logs { get; } = new();

    public string DatabasePath => Path.Combine(DataDir, "feedback.db");

    /// <summary>A client that sends the first API key.</summary>
    public HttpClient Client(string? key = Key)
    {
        var client = CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", key);
        }

        return client;
    }

    /// <summary>Stops this host and returns a new one on the same data directory, as after a process restart.</summary>
    public FeedbackApp Restart()
    {
        var owned = _ownsDirectory;
        _ownsDirectory = false;
        var ownsDatabase = _ownsDatabase;
        _ownsDatabase = false;
        Dispose();

        // A real restart leaves no pooled connection behind.
        SqliteConnection.ClearAllPools();
        return new FeedbackApp(_settings, _time, DataDir, Database) { _ownsDirectory = owned, _ownsDatabase = ownsDatabase };
    }

    /// <summary>Reads GET /feedback/{id} until the condition holds; background work has no fixed duration, so this waits, it does not time.</summary>
    public async Task<JsonElement> EventuallyAsync(long id, Func<JsonElement, bool> condition)
    {
        var client = Client();
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            var row = await (await client.GetAsync(new Uri($"/feedback/{id}", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
            if (condition(row))
            {
                return row;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"Feedback {id} never reached the expected state.");
    }

    /// <summary>
    /// Waits until /health says the deep classifier's encoder is loaded, so that every answer after it is the deep one
    /// (with a generous DEEP_DEADLINE_MS) and carries its sentence vector. The bound only ends a broken test.
    /// </summary>
    public async Task WaitForEncoderAsync()
    {
        var client = Client(key: null);
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            var health = await (await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
            if (health.Str("encoder") == "ready")
            {
                return;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException("The encoder never became ready.");
    }

    /// <summary>A direct connection to the SQLite file, to check what was really committed.</summary>
    public SqliteConnection OpenDatabase()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    public long Scalar(string sql)
    {
        if (Database is not null)
        {
            using var postgres = Database.Open();
            using var query = new Npgsql.NpgsqlCommand(sql, postgres);
            return Convert.ToInt64(query.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }

        using var connection = OpenDatabase();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a statement on the store directly, to set up rows that no endpoint writes.</summary>
    public void Execute(string sql)
    {
        if (Database is not null)
        {
            using var postgres = Database.Open();
            using var statement = new Npgsql.NpgsqlCommand(sql, postgres);
            statement.ExecuteNonQuery();
            return;
        }

        using var connection = OpenDatabase();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        if (_time is not null)
        {
            builder.ConfigureServices(services => services.Replace(ServiceDescriptor.Singleton(_time)));
        }

        if (TestServices is not null)
        {
            builder.ConfigureTestServices(TestServices);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownsDatabase)
        {
            _ownsDatabase = false;
            Database!.Dispose();
        }

        if (disposing && _ownsDirectory)
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(DataDir, recursive: true);
            }
            catch (IOException)
            {
                // A restarted host may still hold the file; the OS temp cleaner takes it.
            }
        }
    }
}

public static class HttpExtensions
{
    public static Task<HttpResponseMessage> PostFeedbackAsync(this HttpClient client, object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/feedback") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// Posts <paramref name="text"/> every half second until <paramref name="arrived"/> completes, and returns its
    /// result: for a change notice one write may not bring, as the instances subscribe to Redis in the background after
    /// they start and another instance's commit before that reaches nobody.
    /// </summary>
    public static async Task<T> PostUntilAsync<T>(this HttpClient client, string text, Func<Task<T>> arrived, CancellationToken cancellationToken)
    {
        using var writing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writer = Task.Run(async () =>
        {
            while (!writing.IsCancellationRequested)
            {
                (await client.PostFeedbackAsync(new { text })).StatusCode.ShouldBe(HttpStatusCode.Created);
                await Task.Delay(500, writing.Token);
            }
        }, cancellationToken);

        var result = await arrived();
        await writing.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(writer);
        return result;
    }

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string body, string? contentType = "application/json")
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        return client.PostAsync(new Uri("/feedback", UriKind.Relative), content, TestContext.Current.CancellationToken);
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string Str(this JsonElement element, string name) => element.GetProperty(name).GetString()!;
}
