using System.Collections.Frozen;
using System.Net.ServerSentEvents;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Feedback.Api.Hosting;
using Feedback.Api.Queries;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Feedback.Api.Security;

namespace Feedback.Api.Dashboard;

/// <summary>
/// The dashboard at /: a static page (HTML, CSS, plain JavaScript embedded in this assembly: no CDN, no build
/// step) that reads the API with its session cookie, plus the reads only it needs: open alert groups, a theme's
/// messages with their texts and a stream of change notices.
/// </summary>
internal static class DashboardEndpoints
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, Asset> Assets = LoadAssets();

    /// <summary>The session cookie, the sign-in guard, the event streams' caps and their change feed (shared through Redis when there is one).</summary>
    public static IHostApplicationBuilder AddDashboard(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddDashboardSession();
        services.AddSingleton<SignInGuard>();
        services.AddSingleton<EventStreamSlots>();
        services.AddSingleton<ChangeFeed>();
        if (builder.Options<Redis.RedisOptions>().Configured)
        {
            services.AddHostedService<RedisChangeRelay>();
        }

        return builder;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseWhen(IsDashboardPath, branch => branch.Use(AddSecurityHeaders));
        app.MapGet("/", () => Serve("index.html")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/dashboard/assets/{name}", (string name) => Serve(name)).AllowAnonymous().ExcludeFromDescription();

        var group = app.MapGroup("/dashboard").WithTags("Dashboard");
        group.MapDashboardSession();
        group.MapGet("/alerts", OpenAlertGroupsAsync)
            .WithName("DashboardOpenAlerts")
            .WithSummary("Open alert groups, most recently active first, with their latest messages and delivery state per channel.")
            .RequireAuthorization(Scopes.Read);
        group.MapGet("/themes/{id}/feedback", Themes.ThemeEndpoints.FeedbackPageAsync)
            .WithName("DashboardThemeFeedback")
            .WithSummary("One theme's messages in a window ([from, to)), newest first, as GET /feedback lists them, a page at a time (limit, cursor).")
            .RequireAuthorization(Scopes.Read);
        group.MapGet("/events", Events)
            .WithName("DashboardEvents")
            .WithSummary("Server-sent events: a 'changed' notice whenever a message, a revision, a label or an alert is stored, at most one a second. At most DASHBOARD_STREAMS_PER_KEY streams per key and DASHBOARD_STREAMS_PER_ADDRESS per address (429 beyond).")
            .RequireAuthorization(Scopes.Read);
        return app;
    }

    private static bool IsDashboardPath(HttpContext context) =>
        context.Request.Path == "/" || context.Request.Path.StartsWithSegments("/dashboard");

    private static Task AddSecurityHeaders(HttpContext context, Func<Task> next)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
        return next();
    }

    private static IResult Serve(string name)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            return Problems.NotFound("There is no such dashboard file.");
        }

        return Results.Bytes(asset.Content, asset.ContentType, entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue(asset.ETag));
    }

    private static async Task<Ok<OpenAlertGroups>> OpenAlertGroupsAsync(FeedbackDb db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await AlertReads.OpenGroupsAsync(db, AlertReads.MaxOpen, cancellationToken));

    /// <summary>At most one notice a second per stream, however often the store commits.</summary>
    private static readonly TimeSpan NoticeGap = TimeSpan.FromSeconds(1);

    private static Results<ServerSentEventsResult<ChangeNotice>, ProblemHttpResult> Events(
        HttpContext context, EventStreamSlots slots, ChangeFeed feed, IHostApplicationLifetime lifetime, TimeProvider time, CancellationToken cancellationToken)
    {
        if (slots.TryTake(context.User.KeyId(), ClientAddress.Partition(context)) is not { } slot)
        {
            context.Response.Headers.RetryAfter = "10";
            return Problems.Make(
                ProblemTypes.TooManyStreams,
                "This key or this address already has as many /dashboard/events streams open as it may; close a tab or retry after the time in Retry-After.");
        }

        context.Response.RegisterForDispose(slot);
        return TypedResults.ServerSentEvents(WatchAsync(feed, lifetime, time, cancellationToken));
    }

    /// <summary>
    /// A 'changed' notice at once, then one after each commit (this instance's, or another's through Redis), at most
    /// one a second; the page then reloads what it shows. Between commits the stream only waits: no query, no timer.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<ChangeNotice>> WatchAsync(
        ChangeFeed feed, IHostApplicationLifetime lifetime, TimeProvider time, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var seen = feed.Version;
        while (true)
        {
            yield return new SseItem<ChangeNotice>(new ChangeNotice(seen), "changed") { ReconnectionInterval = TimeSpan.FromSeconds(3) };
            if (!await NextChangeAsync(feed, seen, time, stop.Token))
            {
                yield break;
            }

            seen = feed.Version;
        }
    }

    /// <summary>Waits out the gap since the last notice, then for a commit after it; false when the stream is closing.</summary>
    private static async Task<bool> NextChangeAsync(ChangeFeed feed, long seen, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(NoticeGap, time, cancellationToken);
            await feed.WaitAsync(seen, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static FrozenDictionary<string, Asset> LoadAssets()
    {
        var assembly = Assembly.GetExecutingAssembly();
        const string prefix = "Dashboard.Assets.";
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var content = memory.ToArray();
            var name = resource[prefix.Length..];
            var type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            assets[name] = new Asset(content, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8)) + "\"");
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag);
}

/// <summary>
/// A change notice: <c>version</c> grows with every commit this instance has heard of (its own, or another's through
/// Redis), so it says that something changed, not how many rows there are.
/// </summary>
internal sealed record ChangeNotice([property: JsonPropertyName("version")] long Version);
