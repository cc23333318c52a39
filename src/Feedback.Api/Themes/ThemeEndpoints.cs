using System.Globalization;
using System.Text.Json.Serialization;
using Feedback.Analysis;
using Feedback.Analysis.Themes;
using Feedback.Api.Queries;
using Feedback.Api.Security;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Themes;

/// <summary>
/// GET /themes and GET /themes/{id}: what customers are talking about in a window, read from the last clustering
/// (<see cref="ThemeRefresher"/>); a request never clusters.
/// </summary>
internal static class ThemeEndpoints
{
    public const int DefaultMinSize = 3;
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
    public const int DefaultMemberLimit = 50;
    public const int MaxMemberLimit = 200;

    /// <summary>The window when the request names none: the last seven days.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(7);

    /// <summary>The longest window whose trend is hourly when the request names no bucket, as the dashboard's 48-hour view.</summary>
    public static readonly TimeSpan HourlyUpTo = TimeSpan.FromHours(48);

    public static RouteGroupBuilder MapThemes(this RouteGroupBuilder group)
    {
        group.MapGet("/", ListAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("ListThemes")
            .WithSummary("The themes of a window ([from, to), default the last 7 days), largest first, with the share of messages in no theme.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/{id}", GetAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("GetTheme")
            .WithSummary("One theme in a window, with its message ids newest first, a page at a time.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static Results<Ok<ThemeList>, ProblemHttpResult> ListAsync(
        HttpRequest request, CurrentThemes themes, ThemeSettings settings, Taxonomy taxonomy, TimeProvider time, IServiceProvider services)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var window = ParseWindow(request.Query, taxonomy, time, errors);
        var minSize = ParseNumber(request.Query, "min_size", DefaultMinSize, 1, 1_000_000, errors);
        var limit = ParseNumber(request.Query, "limit", DefaultLimit, 1, MaxLimit, errors);
        if (errors.Count > 0)
        {
            return Problems.BadRequest("One or more query parameters are not valid; see errors.", errors);
        }

        if (!settings.Enabled)
        {
            return Disabled();
        }

        var snapshot = themes.Snapshot;
        var (views, outlierShare, messages) = snapshot.View(window!, minSize);
        return TypedResults.Ok(new ThemeList(
            [.. views.Take(limit).Select(v => new ThemeItem(v, TitleOf(services, v)))], Math.Round(outlierShare, 4), messages, snapshot.Clustered, ComputedAt(snapshot)));
    }

    private static Results<Ok<ThemeDetails>, ProblemHttpResult> GetAsync(
        string id, HttpRequest request, CurrentThemes themes, ThemeSettings settings, Taxonomy taxonomy, TimeProvider time, IServiceProvider services)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var window = ParseWindow(request.Query, taxonomy, time, errors);
        var limit = ParseNumber(request.Query, "limit", DefaultMemberLimit, 1, MaxMemberLimit, errors);
        long? before = null;
        if (request.Query["cursor"].ToString() is { Length: > 0 } cursor)
        {
            if (QueryEndpoints.Cursor.TryDecode(cursor, out var beforeId))
            {
                before = beforeId;
            }
            else
            {
                errors["cursor"] = ["Not a cursor this API returned."];
            }
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest("One or more query parameters are not valid; see errors.", errors);
        }

        if (!settings.Enabled)
        {
            return Disabled();
        }

        var view = themes.Snapshot.ViewOne(id, window!);
        if (view is null)
        {
            return Problems.NotFound($"There is no theme with id {id} (theme ids change only when a theme's oldest message leaves it; list them with GET /themes).");
        }

        var page = view.MemberIds.Where(m => before is null || m < before).Take(limit + 1).ToList();
        var more = page.Count > limit;
        if (more)
        {
            page.RemoveAt(limit);
        }

        return TypedResults.Ok(new ThemeDetails(view, TitleOf(services, view), page, more ? QueryEndpoints.Cursor.Encode(page[^1]) : null));
    }

    /// <summary>
    /// The dashboard's list of one theme's messages in a window, newest first, as GET /feedback lists them (text, result,
    /// label), a page at a time: the page shows them in its own feed and detail views.
    /// </summary>
    public static async Task<Results<Ok<QueryEndpoints.FeedbackPage>, ProblemHttpResult>> FeedbackPageAsync(
        string id, HttpRequest request, CurrentThemes themes, ThemeSettings settings, Taxonomy taxonomy, TimeProvider time, IServiceProvider services, FeedbackDb db,
        CancellationToken cancellationToken)
    {
        var answer = GetAsync(id, request, themes, settings, taxonomy, time, services);
        if (answer.Result is not Ok<ThemeDetails> { Value: { } theme })
        {
            return (ProblemHttpResult)answer.Result;
        }

        var ids = theme.FeedbackIds;
        var rows = await db.Feedback.AsNoTracking().Where(f => ids.Contains(f.Id)).OrderByDescending(f => f.Id).ToListAsync(cancellationToken);
        var labels = await QueryEndpoints.CurrentLabelsAsync(db, rows.ConvertAll(r => r.Id), cancellationToken);
        return TypedResults.Ok(new QueryEndpoints.FeedbackPage(rows.ConvertAll(r => new FeedbackDetails(r, labels.GetValueOrDefault(r.Id))), theme.NextCursor));
    }

    /// <summary>The LLM's title of the theme (THEME_TITLES=llm), or null; the titles live with the refresher, only when themes are on.</summary>
    private static string? TitleOf(IServiceProvider services, ThemeView view) => services.GetService<ThemeTitles>()?.For(view.Theme);

    private static ProblemHttpResult Disabled() => Problems.Make(
        ProblemTypes.ThemesDisabled, "THEMES_ENABLED is false on this instance.");

    private static DateTime? ComputedAt(ThemeSnapshot snapshot) => snapshot.ComputedAt == DateTime.MinValue ? null : snapshot.ComputedAt;

    private static ThemeWindow? ParseWindow(IQueryCollection query, Taxonomy taxonomy, TimeProvider time, Dictionary<string, string[]> errors)
    {
        var to = QueryParameters.Time(query, "to", errors) ?? time.GetUtcNow().UtcDateTime;
        var from = QueryParameters.Time(query, "from", errors) ?? to - DefaultWindow;
        if (!errors.ContainsKey("from") && !errors.ContainsKey("to") && from >= to)
        {
            errors["from"] = ["Must be before to."];
        }

        var sentiment = QueryParameters.Sentiment(query, errors);
        var topic = QueryParameters.Topic(query, taxonomy, errors);

        TimeSpan bucket;
        switch (query["bucket"].ToString())
        {
            case "":
                bucket = to - from <= HourlyUpTo ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
                break;
            case "hour":
                bucket = TimeSpan.FromHours(1);
                break;
            case "day":
                bucket = TimeSpan.FromDays(1);
                break;
            default:
                errors["bucket"] = ["Must be hour or day."];
                return null;
        }

        return new ThemeWindow(from, to, sentiment, topic, bucket);
    }

    private static int ParseNumber(IQueryCollection query, string name, int otherwise, int min, int max, Dictionary<string, string[]> errors)
    {
        if (query[name].ToString() is not { Length: > 0 } text)
        {
            return otherwise;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors[name] = [$"Must be a whole number from {min} to {max}."];
        return otherwise;
    }

    internal sealed record ThemeList(
        [property: JsonPropertyName("themes")] IReadOnlyList<ThemeItem> Themes,
        [property: JsonPropertyName("outlier_share")] double OutlierShare,
        [property: JsonPropertyName("messages")] int Messages,
        [property: JsonPropertyName("clustered")] int Clustered,
        [property: JsonPropertyName("computed_at")] DateTime? ComputedAt);
}

/// <summary>A theme as GET /themes lists it, under the contract's names.</summary>
internal class ThemeItem(ThemeView view, string? title)
{
    [JsonPropertyName("id")]
    public string Id { get; } = view.Theme.Id;

    [JsonPropertyName("label")]
    public string Label { get; } = view.Theme.Label;

    /// <summary>A short title the LLM gave the theme (THEME_TITLES=llm); null without one, where the label stands.</summary>
    [JsonPropertyName("title")]
    public string? Title { get; } = title;

    [JsonPropertyName("keywords")]
    public IReadOnlyList<string> Keywords { get; } = view.Theme.Keywords;

    [JsonPropertyName("size")]
    public int Size { get; } = view.Size;

    [JsonPropertyName("sentiment")]
    public IReadOnlyDictionary<string, int> Sentiment { get; } = view.Sentiment;

    [JsonPropertyName("topic")]
    public IReadOnlyDictionary<string, int> Topic { get; } = view.Topic;

    [JsonPropertyName("first_at")]
    public DateTime? FirstAt { get; } = view.Size == 0 ? null : view.FirstAt;

    [JsonPropertyName("last_at")]
    public DateTime? LastAt { get; } = view.Size == 0 ? null : view.LastAt;

    /// <summary>(size − previous) / previous against the window of equal length before; null when the theme had none there.</summary>
    [JsonPropertyName("growth")]
    public double? Growth { get; } = view.Growth;

    [JsonPropertyName("previous_size")]
    public int PreviousSize { get; } = view.PreviousSize;

    [JsonPropertyName("example_ids")]
    public IReadOnlyList<long> ExampleIds { get; } = view.ExampleIds;

    /// <summary>The theme's messages per hour or day over the window, for a sparkline; null past 1,000 buckets.</summary>
    [JsonPropertyName("trend")]
    public ThemeTrendItem? Trend { get; } = view.Trend is { } trend ? new ThemeTrendItem(trend) : null;
}

/// <summary>A theme's counts per bucket: <c>counts[i]</c> is the bucket starting <c>i</c> hours or days after <c>start</c>.</summary>
internal sealed class ThemeTrendItem(ThemeTrend trend)
{
    [JsonPropertyName("bucket")]
    public string Bucket { get; } = trend.Bucket == TimeSpan.FromHours(1) ? "hour" : "day";

    [JsonPropertyName("start")]
    public DateTime Start { get; } = trend.Start;

    [JsonPropertyName("counts")]
    public IReadOnlyList<int> Counts { get; } = trend.Counts;
}

/// <summary>GET /themes/{id}: the theme and a page of its message ids, newest first.</summary>
internal sealed class ThemeDetails(ThemeView view, string? title, IReadOnlyList<long> ids, string? nextCursor) : ThemeItem(view, title)
{
    [JsonPropertyName("feedback_ids")]
    public IReadOnlyList<long> FeedbackIds { get; } = ids;

    [JsonPropertyName("next_cursor")]
    public string? NextCursor { get; } = nextCursor;
}
