using Feedback.Api;
using Feedback.Api.Alerts;
using Feedback.Api.Customers;
using Feedback.Api.Dashboard;
using Feedback.Api.Hosting;
using Feedback.Api.Labels;
using Feedback.Api.Operations;
using Feedback.Api.Queries;
using Feedback.Api.Security;
using Feedback.Api.Similarity;
using Feedback.Api.Stats;
using Feedback.Storage;
using Feedback.Api.Submissions;
using Feedback.Api.Themes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Feedback.Storage.Postgres;

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddDotEnv(Path.Combine(Directory.GetCurrentDirectory(), ".env"));
if (OpenApiAtBuild.IsRunning)
{
    // The build's OpenAPI writer builds the app without starting it; it needs a valid set of settings, no more.
    OpenApiAtBuild.Configure(builder.Configuration);
}

ServiceSettings settings;
try
{
    settings = builder.Services.AddServiceSettings(builder.Configuration);
}
catch (Exception exception) when (exception is OptionsValidationException or InvalidOperationException)
{
    // A bad setting stops the start with the variable's name, not a stack trace.
    await Console.Error.WriteLineAsync($"Configuration error: {exception.Message}");
    return 2;
}

builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;

    // Kestrel's default (240 B/s) lets a client hold a request, and a load-shedding slot, for minutes by trickling a body.
    kestrel.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(5));
});
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

if (builder.Configuration["ASPNETCORE_URLS"] is null && builder.Configuration["urls"] is null)
{
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
}

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
builder.Services.AddApiKeyAuthentication();
builder.Services.AddAccessControl();
builder.Services.AddKeyRateLimits(settings);
builder.Services.AddSingleton(settings);
builder.Services.AddDashboard(settings);
builder.Services.AddTrustedProxies(settings.Proxies);
builder.Services.AddRedis(settings);
builder.Services.AddAnalysis(settings);
if (settings.Store.PostgresConnectionString is { } postgres)
{
    builder.Services.AddPostgresStore(postgres, TimeSpan.FromMilliseconds(settings.Llm.AiTimeoutMs));
}
else
{
    builder.Services.AddSqliteStore(settings.Store);
}

builder.Services.AddSimilarity();
if (settings.Store.RetentionDays is { } retentionDays)
{
    builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<RetentionPurge>(sp, retentionDays));
}

builder.Services.AddThemes(settings.Themes);
builder.Services.AddAlerts(settings);
builder.Services.AddSingleton<FeedbackMetrics>();
if (settings.MetricsEnabled)
{
    builder.Services.AddTelemetry(builder.Configuration);
}
builder.Services.AddApiDocs();
builder.Services.AddHealth();

var app = builder.Build();

// Connects to Redis (when REDIS_URL is set) now rather than on the first request; an unreachable one does not stop the start.
app.Services.GetService<Feedback.Api.Redis.RedisLink>();
try
{
    if (settings.Store.PostgresConnectionString is null)
    {
        SqliteStore.Migrate(app.Services);
    }
    else
    {
        PostgresStore.Migrate(app.Services);
    }
}
catch (SqliteException exception) when (StoreUnavailableException.IsStoreFault(exception))
{
    await Console.Error.WriteLineAsync(
        $"Cannot open the store ({settings.Store.SqliteConnectionString}): {StoreUnavailableException.Describe(exception)}. {exception.Message}");
    return 3;
}
// The folder for the SQLite file could not be made: DATA_DIR (or the path in DATABASE_URL) is a file, or not writable.
catch (Exception exception) when (settings.Store.PostgresConnectionString is null && exception is IOException or UnauthorizedAccessException)
{
    var variable = string.IsNullOrWhiteSpace(settings.Store.DatabaseUrl) ? "DATA_DIR" : "DATABASE_URL";
    await Console.Error.WriteLineAsync($"Configuration error: {variable} cannot hold the SQLite file ({settings.Store.SqliteConnectionString}): {exception.Message}");
    return 2;
}
// Filtered on Exception, not NpgsqlException: a catch clause naming an Npgsql type loads Npgsql into every server.
catch (Exception exception) when (settings.Store.PostgresConnectionString is not null && PostgresFaults.IsStoreFault(exception))
{
    // The message names the server, never the password in DATABASE_URL.
    await Console.Error.WriteLineAsync($"Cannot open the PostgreSQL store: {PostgresFaults.Describe(exception)}. {exception.Message}");
    return 3;
}

app.UseForwardedHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages(context => Problems.Make(
        ProblemTypes.Http(context.HttpContext.Response.StatusCode), "See the API reference for the routes and methods.")
    .ExecuteAsync(context.HttpContext));
app.UseMiddleware<RequestLogging>();
app.UseMiddleware<LoadShedding>();
app.UseAccessControl();
if (settings.RateLimitPerMinute > 0)
{
    // With no limit (0) the middleware would still look up a policy and take a no-limit lease on every request: ~4 % of a request's CPU.
    app.UseRateLimiter();
}

app.MapHealth();
if (settings.MetricsEnabled)
{
    app.MapMetrics();
}

app.MapApiDocs();
app.MapProblemPages();
app.MapDashboard();
app.MapGroup("/feedback").RequireAuthorization().RequireRateLimiting(RateLimits.PerKey).MapSubmissions().MapQueries().MapBatch().MapRevisions().MapLabels().MapSimilarity();
app.MapGroup("/alerts").WithTags("Alerts").RequireAuthorization().RequireRateLimiting(RateLimits.PerKey).MapAlerts();
app.MapGroup("/themes").WithTags("Themes").RequireAuthorization().RequireRateLimiting(RateLimits.PerKey).MapThemes();
app.MapGroup("/stats").WithTags("Stats").RequireAuthorization().RequireRateLimiting(RateLimits.PerKey).MapStats();
app.MapGroup("/customers").WithTags("Customers").RequireAuthorization().RequireRateLimiting(RateLimits.PerKey).MapCustomers();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the API tests' WebApplicationFactory.</summary>
public partial class Program;
