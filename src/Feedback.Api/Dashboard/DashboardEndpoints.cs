using System.Collections.Frozen;
using System.Net.ServerSentEvents;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Feedback.Api.Queries;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Feedback.Api.Security;

namespace Feedback.Api.Dashboard;

/// <summary>
/// The dashboard at /: a static page (HTML, CSS, plain JavaScript embedded in this assembly: no CDN, no build
/// step) that reads the API with its session cookie, plus the two reads only it needs: open alert groups and a
/// stream of change notices.
/// </summary>
internal static class DashboardEndpoints
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly FrozenDictionary<string, Asset> Assets = LoadAssets();

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
        group.MapGet("/events", Events)
            .WithName("DashboardEvents")
            .WithSummary("Server-sent events: a 'changed' notice whenever a message, a revision or an alert is stored.")
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

    private static ServerSentEventsResult<ChangeNotice> Events(
        IServiceScopeFactory scopes, IHostApplicationLifetime lifetime, TimeProvider time, CancellationToken cancellationToken) =>
        TypedResults.ServerSentEvents(WatchAsync(scopes, lifetime, time, cancellationToken));

    /// <summary>
    /// Looks at a few cheap numbers once a second (highest feedback id, highest revision id, open alerts, open
    /// alert groups, since a spike opens a group without an alert, and deliveries made) and sends a notice when
    /// one changed; the page then reloads what it shows. The first notice is sent at once.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<ChangeNotice>> WatchAsync(
        IServiceScopeFactory scopes, IHostApplicationLifetime lifetime, TimeProvider time, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        ChangeNotice? last = null;
        while (!stop.IsCancellationRequested)
        {
            ChangeNotice current;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
                current = new ChangeNotice(
                    await db.Feedback.MaxAsync(f => (long?)f.Id, stop.Token) ?? 0,
                    await db.Revisions.MaxAsync(r => (long?)r.Id, stop.Token) ?? 0,
                    await db.Alerts.LongCountAsync(a => a.State == "open", stop.Token),
                    await db.AlertGroups.LongCountAsync(g => g.State == "open", stop.Token),
                    await db.AlertDeliveries.LongCountAsync(d => d.State == "delivered", stop.Token));
            }

            if (current != last)
            {
                last = current;
                yield return new SseItem<ChangeNotice>(current, "changed") { ReconnectionInterval = TimeSpan.FromSeconds(3) };
            }

            try
            {
                await Task.Delay(PollInterval, time, stop.Token);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
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

/// <summary>What the page compares to know whether to reload.</summary>
internal sealed record ChangeNotice(
    [property: JsonPropertyName("latest_feedback_id")] long LatestFeedbackId,
    [property: JsonPropertyName("latest_revision_id")] long LatestRevisionId,
    [property: JsonPropertyName("open_alerts")] long OpenAlerts,
    [property: JsonPropertyName("open_alert_groups")] long OpenAlertGroups,
    [property: JsonPropertyName("delivered_alerts")] long DeliveredAlerts);
