using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Feedback.Analysis.Themes;
using Feedback.Api.Alerts;
using Feedback.Api.Tests.Infrastructure;
using Feedback.Api.Themes;
using Feedback.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Emerging themes raise alerts (issue #19 item 4): a planted theme of complaints, stored through the API on SQLite and
/// PostgreSQL and clustered by the background refresher on the real encoder, reaches a loopback Slack once, through the
/// outbox, with its label, count, trend and three examples; a restart and a second instance raise it no more.
/// </summary>
public sealed partial class ThemeAlertTests : IAsyncLifetime
{
    private readonly List<FeedbackApp> _apps = [];
    private RecordingReceiver _slack = null!;

    public async ValueTask InitializeAsync() => _slack = await RecordingReceiver.StartAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        await _slack.DisposeAsync();
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task A_new_theme_of_complaints_reaches_slack_once_with_its_label_count_trend_and_three_excerpts_and_a_restart_raises_it_no_more(StoreKind store)
    {
        // Fifteen paraphrases of one complaint among forty unrelated messages, all stored in one batch.
        var rows = ThemeTests.BenchSet().Where(r => r.Theme == "double-charge").Concat(ThemeTests.BenchSet().Where(r => r.Theme.Length == 0).Take(40)).ToList();
        var settings = Settings();
        var app = await StartAsync(new FeedbackApp(settings, store: store));
        var ids = await PostAllAsync(app, rows);
        var text = ids.Select((id, i) => (id, rows[i].Text)).ToDictionary(p => p.id, p => p.Text);
        var planted = ids.Where((_, i) => rows[i].Theme.Length > 0).ToHashSet();

        var themes = await ThemesAsync(app, rows.Count);
        await _slack.WaitForAsync(requests => requests.Any(IsThemeAlert));

        var (found, foundMembers) = themes.Single(t => t.Members.Count(planted.Contains) >= 12);
        var label = found.Str("label");
        var negative = found.GetProperty("sentiment").EnumerateObject().Where(p => p.Name is "negative" or "mixed").Sum(p => p.Value.GetInt32());
        negative.ShouldBeGreaterThanOrEqualTo(8);

        var alert = _slack.Requests.Where(IsThemeAlert).ShouldHaveSingleItem().Json;
        alert["blocks"]![0]!["text"]!["text"]!.GetValue<string>().ShouldMatch($"^(High|Critical): emerging theme \"{Regex.Escape(label)}\"$");
        var lines = alert["blocks"]![2]!["text"]!["text"]!.GetValue<string>().Split('\n').Select(l => l.TrimStart('>', ' ')).ToList();
        lines[0].ShouldBe($"Emerging theme: {label}");
        // The last hour against the theme's empty day before, or its first day against THEME_ALERT_MIN_NEGATIVE.
        lines[1].ShouldStartWith($"{negative} negative messages in the last ");
        TrendLine().Match(lines[2]).Groups["sparkline"].Value.Length.ShouldBe(24, lines[2]);
        lines[2].ShouldEndWith($"(at most {negative} an hour)");
        var examples = lines.Skip(3).ToList();
        examples.Count.ShouldBe(3);
        foreach (var example in examples)
        {
            var match = ExampleLine().Match(example);
            match.Success.ShouldBeTrue(example);
            var id = long.Parse(match.Groups["id"].Value, CultureInfo.InvariantCulture);
            foundMembers.ShouldContain(id);
            var excerpt = match.Groups["excerpt"].Value;
            // Cut with an ellipsis where the three would not fit the group's summary.
            (excerpt == text[id] || (excerpt.EndsWith('…') && text[id].StartsWith(excerpt[..^1], StringComparison.Ordinal))).ShouldBeTrue(excerpt);
            excerpt.Length.ShouldBeGreaterThanOrEqualTo(Math.Min(40, text[id].Length));
        }

        var groups = await ThemeGroupsAsync(app);
        var summary = groups.ShouldHaveSingleItem().Str("summary");
        summary.ShouldStartWith($"Emerging theme: {label}\n");
        summary.Length.ShouldBeLessThanOrEqualTo(400);

        // After a restart the same stored messages make the same theme, whose alert the store already holds.
        var restarted = app.Restart();
        _apps.Add(restarted);
        await ThemesAsync(restarted, rows.Count);
        (await CheckAsync(restarted)).ShouldBe(0);
        if (store == StoreKind.Postgres)
        {
            // As does a second instance on the same database.
            var second = await StartAsync(new FeedbackApp(app.Database!, settings));
            await ThemesAsync(second, rows.Count);
            (await CheckAsync(second)).ShouldBe(0);
        }

        (await ThemeGroupsAsync(restarted)).Count.ShouldBe(1);
        _slack.Requests.Count(IsThemeAlert).ShouldBe(1);
    }

    [Fact]
    public async Task A_theme_a_day_old_alerts_once_in_the_hour_its_negative_messages_are_improbable_under_its_own_baseline()
    {
        // Two themes a day old: one complained about once an hour, then twelve times in the last hour; one steadily
        // once an hour. The themes are built here, on vectors made for them and times set by the test; the texts the
        // alert quotes, and the alert itself, go through the real store.
        var app = new FeedbackApp();
        _apps.Add(app);
        var now = new DateTime(2026, 12, 7, 12, 30, 0, DateTimeKind.Utc);
        var times = new List<(DateTime At, int Theme)>();
        for (var hour = 24; hour >= 1; hour--)
        {
            times.Add((now.AddHours(-hour).AddMinutes(-30), 0));
            times.Add((now.AddHours(-hour).AddMinutes(-30), 1));
        }

        times.AddRange(Enumerable.Range(0, 12).Select(i => (now.AddMinutes(-55 + (4 * i)), 0)));
        times.Add((now.AddMinutes(-20), 1));
        var ids = await PostAllAsync(app, [.. times.Select((t, i) => (t.Theme == 0 ? "export" : "login", t.Theme == 0
            ? $"The export to CSV times out again and I lose my report, number {i}."
            : $"Signing in takes three attempts every morning, attempt {i}."))]);
        var sources = times.Select((t, i) => new ThemeSource(ids[i], t.At, "negative", t.Theme == 0 ? "performance" : "bug", t.Theme == 0 ? "csv export times out" : "sign in fails")).ToList();
        var vectors = times.SelectMany((t, i) => Unit(t.Theme, i)).ToArray();
        var snapshot = ThemeSnapshot.Build(sources, vectors, 4, new ThemeThresholds(), now, TestContext.Current.CancellationToken);
        snapshot.Themes.Count.ShouldBe(2);

        var time = new FakeTimeProvider(new DateTimeOffset(now));
        EmergingThemes Instance() => new(
            app.Services.GetRequiredService<IFeedbackStore>(), app.Services.GetRequiredService<IBackgroundReads>(),
            new SpikeSettings(TimeSpan.FromMinutes(5), MinimumCount: 10, MaximumPValue: 0.001, MinimumBaselinePerHour: 0.5),
            new ThemeSettings { AlertMinNegative = 10 }, time, NullLogger<EmergingThemes>.Instance);

        (await Instance().CheckAsync(snapshot, TestContext.Current.CancellationToken)).ShouldBe(1);
        var group = (await ThemeGroupsAsync(app)).ShouldHaveSingleItem();
        group.Str("topic").ShouldBe("performance");
        var lines = group.Str("summary").Split('\n');
        lines[0].ShouldBe($"Emerging theme: {snapshot.Themes.Single(t => t.Id == $"t{ids[0]}").Label}");
        lines[1].ShouldStartWith("12 negative messages in the last hour against 1.0 an hour the day before (Poisson p = ");
        lines[2].ShouldBe("Trend, negative per hour over 24 h: " + new string('▂', 23) + "█ (at most 12 an hour)");
        lines.Skip(3).Count().ShouldBe(3);

        // Another instance, or this one after a restart, in the same hour: the store holds the hour's key.
        (await Instance().CheckAsync(snapshot, TestContext.Current.CancellationToken)).ShouldBe(0);
        // An hour on, the burst is the baseline's now and the last hour is quiet.
        time.Advance(TimeSpan.FromHours(1));
        (await Instance().CheckAsync(snapshot, TestContext.Current.CancellationToken)).ShouldBe(0);
        (await ThemeGroupsAsync(app)).Count.ShouldBe(1);
    }

    /// <summary>A unit vector close to axis <paramref name="axis"/>, a little different for each <paramref name="seed"/>.</summary>
    private static float[] Unit(int axis, int seed)
    {
        var vector = new float[4];
        vector[axis] = 1;
        vector[2 + axis] = 0.05f * (seed % 5);
        var length = MathF.Sqrt(vector.Sum(v => v * v));
        return [.. vector.Select(v => v / length)];
    }

    [Fact]
    public void With_redaction_on_a_theme_alert_redacts_its_label_and_examples_and_leaves_its_figures_alone()
    {
        var summary = string.Join('\n',
            "Emerging theme: refund, jane.doe@example.com",
            "12 negative messages in the 24 hours since 2026-12-07 17:04 (THEME_ALERT_MIN_NEGATIVE is 10).",
            "Trend, negative per hour over 24 h: ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▃█ (at most 9 an hour)",
            "• #41: Charged twice, call me on +1 (555) 123-4567",
            "• #42: Mail jane.doe@example.com about my refund",
            "• #43: Double charge again");

        var redacted = AlertExcerpt.For(EmergingThemes.Kind, summary, redact: true).Split('\n');

        redacted.ShouldBe([
            "Emerging theme: refund, [email]",
            "12 negative messages in the 24 hours since 2026-12-07 17:04 (THEME_ALERT_MIN_NEGATIVE is 10).",
            "Trend, negative per hour over 24 h: ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▃█ (at most 9 an hour)",
            "• #41: Charged twice, call me on [phone]",
            "• #42: Mail [email] about my refund",
            "• #43: Double charge again",
        ]);
        AlertExcerpt.For(EmergingThemes.Kind, summary, redact: false).ShouldBe(summary);
    }

    private Dictionary<string, string> Settings() => new(StringComparer.Ordinal)
    {
        // Every answer is the deep one, with the sentence vector the themes are made of.
        ["CLASSIFIER"] = "deep",
        ["DEEP_DEADLINE_MS"] = "10000",
        ["THEMES_REFRESH_SECONDS"] = "1",
        ["THEME_ALERT_MIN_NEGATIVE"] = "8",
        ["SLACK_WEBHOOK_URL"] = _slack.Url.ToString(),
        // The complaints' own alerts go to the same receiver; no pause between them.
        ["ALERT_SEND_INTERVAL_MS"] = "0",
    };

    private static bool IsThemeAlert(ReceivedRequest request) =>
        request.Json["blocks"]?[0]?["text"]?["text"]?.GetValue<string>().Contains(": emerging theme", StringComparison.Ordinal) == true;

    private async Task<FeedbackApp> StartAsync(FeedbackApp app)
    {
        _apps.Add(app);
        await Eventually.ReachedAsync(async () =>
        {
            var health = await (await app.Client(key: null).GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
            return health.Str("encoder") == "ready" ? health : (JsonElement?)null;
        });
        return app;
    }

    /// <summary>What the refresher runs after each change, run once more by the test on the instance's current themes.</summary>
    private static Task<int> CheckAsync(FeedbackApp app) =>
        app.Services.GetRequiredService<EmergingThemes>().CheckAsync(app.Services.GetRequiredService<CurrentThemes>().Snapshot, TestContext.Current.CancellationToken);

    private static async Task<List<long>> PostAllAsync(FeedbackApp app, List<(string Theme, string Text)> rows)
    {
        var response = await app.Client().PostAsJsonAsync(new Uri("/feedback/batch", UriKind.Relative), new { items = rows.Select(r => new { text = r.Text }) }, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var items = (await response.JsonAsync()).GetProperty("items").EnumerateArray().ToList();
        items.ShouldAllBe(i => i.GetProperty("status").GetInt32() == 201);
        return [.. items.Select(i => i.GetProperty("result").GetProperty("id").GetInt64())];
    }

    /// <summary>Waits for a clustering of all <paramref name="count"/> messages; then every theme with its member ids.</summary>
    private static async Task<List<(JsonElement Theme, HashSet<long> Members)>> ThemesAsync(FeedbackApp app, int count)
    {
        var list = await Eventually.ReachedAsync(async () =>
        {
            var body = await GetAsync(app, "/themes?min_size=1&limit=100");
            return body.GetProperty("clustered").GetInt32() == count ? body : (JsonElement?)null;
        });
        var themes = new List<(JsonElement, HashSet<long>)>();
        foreach (var theme in list.GetProperty("themes").EnumerateArray())
        {
            var details = await GetAsync(app, $"/themes/{theme.Str("id")}?limit=200");
            themes.Add((theme, details.GetProperty("feedback_ids").EnumerateArray().Select(e => e.GetInt64()).ToHashSet()));
        }

        return themes;
    }

    private static async Task<List<JsonElement>> ThemeGroupsAsync(FeedbackApp app) =>
        [.. (await GetAsync(app, "/alerts?limit=200")).GetProperty("items").EnumerateArray().Where(g => g.Str("kind") == EmergingThemes.Kind)];

    private static async Task<JsonElement> GetAsync(FeedbackApp app, string path)
    {
        var response = await app.Client().GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.JsonAsync();
    }

    [GeneratedRegex("^Trend, negative per hour over 24 h: (?<sparkline>[▁▂▃▄▅▆▇█]+) ", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex TrendLine();

    [GeneratedRegex("^• #(?<id>[0-9]+): (?<excerpt>.+)$", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ExampleLine();
}
