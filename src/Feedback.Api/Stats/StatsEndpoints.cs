using System.Globalization;
using System.Text.Json.Serialization;
using Feedback.Analysis;
using Feedback.Analysis.Llm;
using Feedback.Api.Queries;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Feedback.Api.Security;

namespace Feedback.Api.Stats;

/// <summary>GET /stats: what arrived in a time range, counted by label, by method and by hour or day.</summary>
internal static class StatsEndpoints
{
    public const int MaxBuckets = 1000;

    public static RouteGroupBuilder MapStats(this RouteGroupBuilder group)
    {
        group.MapGet("/", GetAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("GetStats")
            .WithSummary("Counts per sentiment, topic, method and time bucket, alert counts and LLM usage, for [from, to).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return group;
    }

    private static async Task<Results<Ok<StatsView>, ProblemHttpResult>> GetAsync(
        HttpRequest request, FeedbackDb db, Taxonomy taxonomy, LlmPricing pricing, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var (range, errors) = StatsRange.Parse(request.Query, now);
        if (errors.Count > 0)
        {
            return Problems.BadRequest("One or more query parameters are not valid; see errors.", errors);
        }

        // Sums of the rollups, which the writers keep in the transaction of the rows they count (RollupReads: the daily
        // sums for whole days, the hourly ones for the hours at either end, the hour x sentiment x alert sums for an hour
        // series): the range is whole hours (whole days are whole hours too), so the sums are exactly the rows' counts,
        // and the cost follows the days and hours asked for, not the rows stored.
        // The alerts by state come from counters kept the same way (alert_rollups), not from a count of the alerts.
        List<RollupSum> totals, series;
        Dictionary<string, long> alerts;
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            totals = await RollupReads.TotalsAsync(connection, range!.From, range.To, cancellationToken);
            series = await RollupReads.SeriesAsync(connection, range.From, range.To, range.Bucket == "hour", cancellationToken);
            alerts = await RollupReads.AlertsByStateAsync(connection, range.From, range.To, cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        var view = StatsView.Build(range, totals, series, alerts, taxonomy);

        // The range is whole hours or days, as the usage's rows are counted, so its sums are exact.
        var month = LlmPricing.MonthOf(now);
        var usage = await LlmUsageReads.SumAsync(db, range.From, range.To, cancellationToken);
        var monthUsage = await LlmUsageReads.SumAsync(db, month, month.AddMonths(1), cancellationToken);
        return TypedResults.Ok(view with { Llm = LlmStats.Of(usage, view.Total, pricing, month, monthUsage) });
    }

    internal sealed record StatsRange(DateTime From, DateTime To, string Bucket)
    {
        public TimeSpan Step => Bucket == "hour" ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);

        /// <summary>
        /// Defaults: to = now, from = 48 hours (hour buckets) or 30 days (day buckets) earlier. Both ends are
        /// widened to whole buckets, so every bucket in the series is complete.
        /// </summary>
        public static (StatsRange? Range, Dictionary<string, string[]> Errors) Parse(IQueryCollection query, DateTime now)
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var bucket = query["bucket"].ToString() is { Length: > 0 } b ? b : "day";
            if (bucket is not ("hour" or "day"))
            {
                errors["bucket"] = ["Must be hour or day."];
                bucket = "day";
            }

            var step = bucket == "hour" ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
            var givenTo = QueryParameters.Time(query, "to", errors);
            var to = givenTo ?? now;
            var from = QueryParameters.Time(query, "from", errors) ?? to - (bucket == "hour" ? TimeSpan.FromHours(48) : TimeSpan.FromDays(30));
            if (errors.Count > 0)
            {
                return (null, errors);
            }

            from = Floor(from, step);
            to = Floor(to, step) == to ? to : Floor(to, step) + step;
            if (to <= from)
            {
                // The error goes on the parameter the client sent: without to, the range ends now, and from is what is wrong.
                if (givenTo is not null)
                {
                    errors["to"] = ["Must be later than from."];
                }
                else
                {
                    errors["from"] = ["Must be earlier than now (to, when it is not given)."];
                }
            }
            else if ((to - from) / step > MaxBuckets)
            {
                errors["bucket"] = [$"The range holds more than {MaxBuckets} buckets of one {bucket}: use a shorter range or day buckets."];
            }

            return errors.Count > 0 ? (null, errors) : (new StatsRange(from, to, bucket), errors);
        }

        private static DateTime Floor(DateTime value, TimeSpan step) =>
            new(value.Ticks - (value.Ticks % step.Ticks), DateTimeKind.Utc);
    }
}

internal sealed record StatsView(
    [property: JsonPropertyName("from")] DateTime From,
    [property: JsonPropertyName("to")] DateTime To,
    [property: JsonPropertyName("bucket")] string Bucket,
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("sentiment")] IReadOnlyDictionary<string, long> Sentiment,
    [property: JsonPropertyName("topic")] IReadOnlyDictionary<string, long> Topic,
    [property: JsonPropertyName("topic_sentiment")] IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> TopicSentiment,
    [property: JsonPropertyName("processing_method")] IReadOnlyDictionary<string, long> ProcessingMethod,
    [property: JsonPropertyName("method_share")] IReadOnlyDictionary<string, double> MethodShare,
    [property: JsonPropertyName("alerts")] AlertCounts Alerts,
    [property: JsonPropertyName("series")] IReadOnlyList<StatsBucket> Series)
{
    /// <summary>The LLM calls of the range and what they cost, with the month's spend against the budget.</summary>
    [JsonPropertyName("llm")]
    public LlmStats? Llm { get; init; }

    private static readonly string[] Sentiments = [.. Enum.GetValues<Sentiment>().Select(WireNames.Of)];
    private static readonly string[] Methods = [.. Enum.GetValues<ProcessingMethod>().Select(WireNames.Of)];

    /// <summary>The configured topics are always there (zero when none arrived); topics of an earlier taxonomy when stored messages carry them.</summary>
    /// <remarks>
    /// <paramref name="rows"/> are the range's counts by label (no bucket); <paramref name="series"/> its counts by bucket,
    /// sentiment and alert (no topic or method).
    /// </remarks>
    internal static StatsView Build(
        StatsEndpoints.StatsRange range, List<RollupSum> rows, List<RollupSum> series, Dictionary<string, long> alertStates, Taxonomy taxonomy)
    {
        string[] topics = [.. taxonomy.Topics.Select(WireNames.Of).Concat(rows.Select(r => r.Topic).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)).Distinct(StringComparer.Ordinal)];
        var sentiment = Zeroes(Sentiments);
        var topic = Zeroes(topics);
        var method = Zeroes(Methods);
        var topicSentiment = topics.ToDictionary(t => t, _ => Zeroes(Sentiments), StringComparer.Ordinal);
        var byStart = new Dictionary<string, StatsBucket>(StringComparer.Ordinal);
        var format = range.Bucket == "hour" ? "yyyy-MM-dd HH" : "yyyy-MM-dd";
        var buckets = new List<StatsBucket>();
        for (var start = range.From; start < range.To; start += range.Step)
        {
            var bucket = new StatsBucket(start, Zeroes(Sentiments));
            buckets.Add(bucket);
            byStart[start.ToString(format, CultureInfo.InvariantCulture)] = bucket;
        }

        long total = 0, triggered = 0;
        foreach (var row in rows)
        {
            total += row.Count;
            Add(sentiment, row.Sentiment, row.Count);
            Add(topic, row.Topic, row.Count);
            Add(method, row.Method, row.Count);
            if (topicSentiment.TryGetValue(row.Topic, out var byTopic))
            {
                Add(byTopic, row.Sentiment, row.Count);
            }

            if (row.Alert)
            {
                triggered += row.Count;
            }
        }

        foreach (var row in series)
        {
            if (byStart.TryGetValue(row.Bucket, out var bucket))
            {
                bucket.Total += row.Count;
                bucket.Alerts += row.Alert ? row.Count : 0;
                Add(bucket.Sentiment, row.Sentiment, row.Count);
            }
        }

        // Shares of the messages a classifier decided: validation (too short to analyse) is left out.
        var classified = method["ai"] + method["ml_fallback"];
        var share = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["ai"] = classified == 0 ? 0 : Math.Round((double)method["ai"] / classified, 4),
            ["ml_fallback"] = classified == 0 ? 0 : Math.Round((double)method["ml_fallback"] / classified, 4),
        };
        var alerts = new AlertCounts(
            triggered,
            alertStates.GetValueOrDefault("open"),
            alertStates.GetValueOrDefault("resolved"),
            alertStates.GetValueOrDefault("superseded"));
        return new StatsView(
            range.From, range.To, range.Bucket, total, sentiment, topic,
            topicSentiment.ToDictionary(p => p.Key, p => (IReadOnlyDictionary<string, long>)p.Value, StringComparer.Ordinal),
            method, share, alerts, buckets);
    }

    private static Dictionary<string, long> Zeroes(string[] names) => names.ToDictionary(n => n, _ => 0L, StringComparer.Ordinal);

    private static void Add(Dictionary<string, long> counts, string name, long count)
    {
        if (counts.ContainsKey(name))
        {
            counts[name] += count;
        }
    }
}

/// <summary>Alerts in the range: how many messages triggered one, and the alerts raised by their state now.</summary>
internal sealed record AlertCounts(
    [property: JsonPropertyName("triggered")] long Triggered,
    [property: JsonPropertyName("open")] long Open,
    [property: JsonPropertyName("resolved")] long Resolved,
    [property: JsonPropertyName("superseded")] long Superseded);

internal sealed class StatsBucket(DateTime start, Dictionary<string, long> sentiment)
{
    [JsonPropertyName("start")]
    public DateTime Start { get; } = start;

    [JsonPropertyName("total")]
    public long Total { get; set; }

    [JsonPropertyName("alerts")]
    public long Alerts { get; set; }

    [JsonPropertyName("sentiment")]
    public Dictionary<string, long> Sentiment { get; } = sentiment;
}

/// <summary>
/// The LLM calls counted in the range and their tokens; <c>cost</c> in the currency of LLM_PRICE_*_PER_1K (null without
/// prices), and per 1,000 messages stored in the range.
/// </summary>
internal sealed record LlmStats(
    [property: JsonPropertyName("calls")] long Calls,
    [property: JsonPropertyName("input_tokens")] long InputTokens,
    [property: JsonPropertyName("output_tokens")] long OutputTokens,
    [property: JsonPropertyName("cost")] decimal? Cost,
    [property: JsonPropertyName("cost_per_1000_messages")] decimal? CostPer1000Messages,
    [property: JsonPropertyName("month")] LlmMonth Month)
{
    public static LlmStats Of(LlmUsage usage, long messages, LlmPricing pricing, DateTime month, LlmUsage monthUsage)
    {
        var cost = pricing.Cost(usage.InputTokens, usage.OutputTokens);
        return new LlmStats(
            usage.Calls, usage.InputTokens, usage.OutputTokens, cost,
            cost is { } c && messages > 0 ? decimal.Round(c * 1000 / messages, 6) : null,
            new LlmMonth(
                month, monthUsage.Calls, monthUsage.Tokens, pricing.Cost(monthUsage.InputTokens, monthUsage.OutputTokens), pricing.MonthlyTokens,
                pricing.IsSpent(monthUsage.Tokens)));
    }
}

/// <summary>The calendar month (UTC) of now: its tokens against LLM_TOKEN_BUDGET_MONTHLY (null: no ceiling).</summary>
internal sealed record LlmMonth(
    [property: JsonPropertyName("start")] DateTime Start,
    [property: JsonPropertyName("calls")] long Calls,
    [property: JsonPropertyName("tokens")] long Tokens,
    [property: JsonPropertyName("cost")] decimal? Cost,
    [property: JsonPropertyName("budget_tokens")] long? BudgetTokens,
    [property: JsonPropertyName("exhausted")] bool Exhausted);
