using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using Feedback.Analysis.Themes;
using Feedback.Api.Themes;
using Feedback.Storage;

namespace Feedback.Api.Alerts;

/// <summary>
/// Emerging themes raise alerts. Whenever the themes change (a clustering, or new messages joining one), each theme's
/// negative (and mixed) messages are counted hour by hour over the last 25 hours. A theme raises one alert when its
/// last hour is improbable under its own baseline (the spike detector's Poisson test against the theme's 24 hours
/// before, with the same SPIKE_MIN_COUNT and SPIKE_P_VALUE), or when it first appeared within 24 hours and has
/// THEME_ALERT_MIN_NEGATIVE such messages since. The alert is a group of kind <see cref="Kind"/> raised through the
/// outbox as a spike's is, under a key the store keeps unique: the theme and the hour, or, while the theme is under a day
/// old, the theme alone (so a new theme alerts once in its first day, whichever test fires, and at most once an hour
/// after). Every instance clusters the same stored messages into the same themes and ids, so neither a restart nor a
/// second instance raises a key twice.
/// </summary>
internal sealed partial class EmergingThemes(
    IFeedbackStore store,
    IBackgroundReads reads,
    SpikeSettings spike,
    ThemeSettings settings,
    TimeProvider time,
    ILogger<EmergingThemes> logger)
{
    /// <summary>The kind of an emerging theme's alert group, beside 'feedback', 'spike' and 'llm_budget'.</summary>
    public const string Kind = "theme";

    /// <summary>How the summary's first line starts; the rest of that line is the theme's label.</summary>
    public const string Heading = "Emerging theme: ";

    /// <summary>How each example line of the summary starts.</summary>
    public const string ExampleMarker = "• ";

    private const int BaselineHours = 24;
    private const int Examples = 3;
    private const int ExcerptLength = 160;
    private const int LabelLength = 80;

    /// <summary>What a group's summary holds at most (alert_groups.summary on PostgreSQL): the examples share what the other lines leave.</summary>
    private const int SummaryLength = 400;

    /// <summary>Sparkline levels, lowest first: no digits, so no count in the trend can look like a phone number to redaction.</summary>
    private const string Levels = "▁▂▃▄▅▆▇█";

    private static readonly FrozenSet<string> Negative = FrozenSet.Create(StringComparer.Ordinal, "negative", "mixed");

    /// <summary>Keys this instance raised or found raised: asking the store again would change nothing.</summary>
    private readonly ConcurrentDictionary<string, bool> _settled = new(StringComparer.Ordinal);

    /// <summary>The lines of a summary that hold customers' words (the label and the examples): what redaction applies to.</summary>
    public static bool IsCustomerText(string line) =>
        line.StartsWith(Heading, StringComparison.Ordinal) || line.StartsWith(ExampleMarker, StringComparison.Ordinal);

    /// <summary>The label a summary names on its first line, or null for a summary of another shape.</summary>
    public static string? LabelOf(string summary)
    {
        var firstLine = summary.Split('\n', 2)[0];
        return firstLine.StartsWith(Heading, StringComparison.Ordinal) ? firstLine[Heading.Length..] : null;
    }

    /// <summary>Raises the alerts <paramref name="snapshot"/>'s themes call for now; how many were raised (not found raised already).</summary>
    public async Task<int> CheckAsync(ThemeSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var now = time.GetUtcNow().UtcDateTime;
        var raised = 0;
        foreach (var theme in snapshot.Activity(now, BaselineHours + 1, Negative, Examples))
        {
            var recent = theme.PerHour[^1];
            var baselineCount = theme.PerHour.Take(BaselineHours).Sum();
            var lambda = Math.Max(baselineCount / (double)BaselineHours, spike.MinimumBaselinePerHour);
            var p = SpikeDetector.PoissonUpperTail(recent, lambda);
            var spiking = recent >= spike.MinimumCount && p < spike.MaximumPValue;
            var isNew = theme.FirstAt > now.AddHours(-BaselineHours);
            var lastDay = theme.PerHour.Skip(1).Sum();
            var reached = isNew && settings.AlertMinNegative > 0 && lastDay >= settings.AlertMinNegative;
            if (!spiking && !reached)
            {
                continue;
            }

            var key = isNew
                ? $"{Kind}:{theme.Theme.Id}:new"
                : string.Create(CultureInfo.InvariantCulture, $"{Kind}:{theme.Theme.Id}:{now:yyyy-MM-ddTHH}");
            if (_settled.ContainsKey(key))
            {
                continue;
            }

            var texts = await reads.TextsOfAsync(theme.ExampleIds, cancellationToken);
            var why = spiking
                ? string.Create(CultureInfo.InvariantCulture,
                    $"{recent} negative messages in the last hour against {baselineCount / (double)BaselineHours:0.0} an hour the day before (Poisson p = {p:0.#E+0}).")
                : string.Create(CultureInfo.InvariantCulture,
                    $"{lastDay} negative messages in the last 24 hours, since the theme appeared (THEME_ALERT_MIN_NEGATIVE {settings.AlertMinNegative}).");
            var summary = Summary(theme, why, texts);
            var severity = spiking && recent >= 5 * lambda && p < spike.MaximumPValue / 1000 ? "critical" : "high";
            var topic = theme.Topics.OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal).First().Key;
            if (await store.RaiseSpikeAsync(new TopicSpike(topic, severity, summary, key, now, Kind), cancellationToken))
            {
                raised++;
                LogRaised(logger, theme.Theme.Id, recent, lastDay);
            }

            _settled.TryAdd(key, true);
        }

        return raised;
    }

    /// <summary>
    /// The group's text, one fact a line: the label; why it alerts; the trend (a sparkline of the last 24 hours' negative
    /// messages, oldest first); up to three examples (the theme's negative messages nearest its centroid), each
    /// "• #id: excerpt" on one line, cut so the whole fits <see cref="SummaryLength"/>.
    /// </summary>
    private static string Summary(ThemeActivity theme, string why, Dictionary<long, string> texts)
    {
        var label = theme.Theme.Label.Length > 0 ? theme.Theme.Label : string.Join(", ", theme.Theme.Keywords.Take(3));
        var lastDay = theme.PerHour.Skip(1).ToList();
        var peak = Math.Max(1, lastDay.Max());
        var sparkline = string.Concat(lastDay.Select(c => Levels[((c * (Levels.Length - 1)) + peak - 1) / peak]));
        var text = new StringBuilder()
            .Append(Heading).Append(Cut(label, LabelLength)).Append('\n')
            .Append(why).Append('\n')
            .Append(CultureInfo.InvariantCulture, $"Trend, negative per hour over 24 h: {sparkline} (at most {lastDay.Max()} an hour)");
        var examples = theme.ExampleIds.Where(texts.ContainsKey)
            .Select(id => (Prefix: string.Create(CultureInfo.InvariantCulture, $"\n{ExampleMarker}#{id}: "), Text: texts[id]))
            .ToList();
        var room = examples.Count == 0 ? 0 : (SummaryLength - text.Length - examples.Sum(e => e.Prefix.Length)) / examples.Count;
        foreach (var (prefix, excerpt) in examples)
        {
            text.Append(prefix).Append(Cut(string.Join(' ', excerpt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), Math.Min(room, ExcerptLength)));
        }

        return text.ToString();
    }

    /// <summary>At most <paramref name="length"/> characters, the last an ellipsis when cut.</summary>
    private static string Cut(string text, int length) =>
        text.Length <= length ? text : length < 1 ? "" : text[..(length - 1)] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Emerging theme {ThemeId}: {Recent} negative messages in the last hour, {LastDay} in the last 24 hours")]
    private static partial void LogRaised(ILogger logger, string themeId, int recent, int lastDay);
}
