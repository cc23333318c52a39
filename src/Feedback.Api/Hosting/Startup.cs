using Feedback.Analysis.Llm;
using Feedback.Api.Alerts;
using Feedback.Api.Dashboard;
using Feedback.Api.Operations;
using Feedback.Api.Queries;
using Feedback.Api.Redis;
using Feedback.Api.Security;
using Feedback.Api.Themes;
using Feedback.Storage;
using Feedback.Storage.Alerts;
using Feedback.Storage.Postgres;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Hosting;

/// <summary>
/// What happens before the features are wired and before the host starts: settings read and checked, the listen
/// address, the log, and the store opened. A setting or a store that cannot work stops the start with a message naming
/// the variable (exit code 2) or the store's fault (3), never a stack trace.
/// </summary>
internal static class Startup
{
    /// <summary>Reads .env and every feature's settings, and sets up Kestrel and the log; null when the host can be built, else the exit code.</summary>
    public static async Task<int?> ConfigureAsync(WebApplicationBuilder builder)
    {
        builder.Configuration.AddDotEnv(Path.Combine(Directory.GetCurrentDirectory(), ".env"));
        if (OpenApiAtBuild.IsRunning)
        {
            // The build's OpenAPI writer builds the app without starting it; it needs a valid set of settings, no more.
            OpenApiAtBuild.Configure(builder.Configuration);
        }

        try
        {
            AddSettings(builder);
        }
        catch (Exception exception) when (exception is OptionsValidationException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"Configuration error: {exception.Message}");
            return 2;
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // Kestrel's default (240 B/s) lets a client hold a request, and a load-shedding slot, for minutes by trickling a body.
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(5));
        });
        AddLog(builder);
        return await ListenAsync(builder);
    }

    /// <summary>Every feature's settings, each its own options type bound from the contract's variables, checked together.</summary>
    private static void AddSettings(IHostApplicationBuilder builder)
    {
        builder.AddFeatureOptions<StoreSettings>(s => s.Failures());
        builder.AddFeatureOptions<SecurityOptions>(s => s.Failures());
        builder.AddFeatureOptions<ProxySettings>(s => s.Failures());
        builder.AddFeatureOptions<OperationsOptions>(s => s.Failures());
        builder.AddFeatureOptions<RedisOptions>(s => s.Failures());
        builder.AddFeatureOptions<SearchOptions>(s => s.Failures());
        builder.AddFeatureOptions<DashboardSettings>(s => s.Failures());
        builder.AddFeatureOptions<ThemeSettings>(s => s.Failures());
        builder.AddFeatureOptions<AlertOptions>(s => s.Failures());
        builder.AddFeatureOptions<LlmSettings>(s => s.Failures());
        builder.AddFeatureOptions<AnalysisOptions>(s => s.Failures());
        builder.AddFeatureOptions<SpikeOptions>(s => s.Failures());
        builder.ThrowOnFailures();
    }

    private static void AddLog(WebApplicationBuilder builder)
    {
        var settings = builder.Options<OperationsOptions>();
        if (settings.LogFormat == "json")
        {
            // One JSON object a line, for log shippers; the structured fields of every event become properties.
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(json =>
            {
                json.IncludeScopes = true;
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }

        builder.Logging.UseBufferedConsole();
        HostingDiagnostics.SwitchOffWhenUnused(builder.Logging, builder.Configuration, settings);
    }

    /// <summary>HOST and PORT, unless ASPNETCORE_URLS (or --urls) says where to listen.</summary>
    private static async Task<int?> ListenAsync(WebApplicationBuilder builder)
    {
        if (builder.Configuration["ASPNETCORE_URLS"] is not null || builder.Configuration["urls"] is not null)
        {
            return null;
        }

        var host = builder.Configuration["HOST"];
        var listenUrl = ListenAddress.Build(host, builder.Configuration["PORT"], out var listenError);
        if (listenUrl is null)
        {
            await Console.Error.WriteLineAsync($"Configuration error: {listenError}");
            return 2;
        }

        if (ListenAddress.Warning(host) is { } listenWarning)
        {
            await Console.Error.WriteLineAsync($"Warning: {listenWarning}");
        }

        builder.WebHost.UseUrls(listenUrl);
        return null;
    }

    /// <summary>The SQLite file under DATA_DIR, or the PostgreSQL server DATABASE_URL names.</summary>
    public static IHostApplicationBuilder AddStore(this IHostApplicationBuilder builder)
    {
        var store = builder.Options<StoreSettings>();
        if (store.PostgresConnectionString is { } postgres)
        {
            builder.Services.AddPostgresStore(postgres, TimeSpan.FromMilliseconds(builder.Options<LlmSettings>().AiTimeoutMs));
        }
        else
        {
            builder.Services.AddSqliteStore(store);
        }

        if (store.RetentionDays is { } retentionDays)
        {
            builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<RetentionPurge>(sp, retentionDays));
        }

        return builder;
    }

    /// <summary>Connects to Redis (when REDIS_URL is set) and opens the store, migrating it; null when it is ready, else the exit code.</summary>
    public static async Task<int?> OpenStoreAsync(WebApplication app)
    {
        // Connects now rather than on the first request; an unreachable Redis does not stop the start.
        app.Services.GetService<RedisLink>();
        var store = app.Services.GetRequiredService<StoreSettings>();
        var postgres = store.PostgresConnectionString is not null;
        try
        {
            if (postgres)
            {
                PostgresStore.Migrate(app.Services);
            }
            else
            {
                SqliteStore.Migrate(app.Services);
            }

            return null;
        }
        catch (SqliteException exception) when (StoreUnavailableException.IsStoreFault(exception))
        {
            await Console.Error.WriteLineAsync(
                $"Cannot open the store ({store.SqliteConnectionString}): {StoreUnavailableException.Describe(exception)}. {exception.Message}");
            return 3;
        }
        // The folder for the SQLite file could not be made: DATA_DIR (or the path in DATABASE_URL) is a file, or not writable.
        catch (Exception exception) when (!postgres && exception is IOException or UnauthorizedAccessException)
        {
            var variable = string.IsNullOrWhiteSpace(store.DatabaseUrl) ? "DATA_DIR" : "DATABASE_URL";
            await Console.Error.WriteLineAsync($"Configuration error: {variable} cannot hold the SQLite file ({store.SqliteConnectionString}): {exception.Message}");
            return 2;
        }
        // Filtered on Exception, not NpgsqlException: a catch clause naming an Npgsql type loads Npgsql into every server.
        catch (Exception exception) when (postgres && PostgresFaults.IsStoreFault(exception))
        {
            // The message names the server, never the password in DATABASE_URL.
            await Console.Error.WriteLineAsync($"Cannot open the PostgreSQL store: {PostgresFaults.Describe(exception)}. {exception.Message}");
            return 3;
        }
    }
}
