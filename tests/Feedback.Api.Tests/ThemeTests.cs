using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Themes on the real encoder, from the bench set of issue #19 (bench/themes/set.csv: six planted themes of fifteen
/// paraphrases sharing few words, among 300 unrelated messages), stored through the API on SQLite and PostgreSQL and
/// clustered by the background refresher.
/// </summary>
public sealed class ThemeTests : IAsyncLifetime
{
    private readonly List<FeedbackApp> _apps = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Every_planted_theme_comes_back_as_one_theme_holding_most_of_its_paraphrases_and_few_messages_are_outliers(StoreKind store)
    {
        var rows = BenchSet();
        var app = await StartAsync(store);
        var ids = await PostAllAsync(app, rows);

        var (list, themes) = await ThemesAsync(app, rows.Count);

        list.GetProperty("outlier_share").GetDouble().ShouldBeLessThanOrEqualTo(0.2);
        list.GetProperty("messages").GetInt32().ShouldBe(rows.Count);
        foreach (var planted in rows.Where(r => r.Theme.Length > 0).GroupBy(r => r.Theme))
        {
            var paraphrases = planted.Select(r => ids[rows.IndexOf(r)]).ToHashSet();
            var (theme, members) = themes.OrderByDescending(t => t.Members.Count(paraphrases.Contains)).First();
            var found = members.Count(paraphrases.Contains);
            found.ShouldBeGreaterThanOrEqualTo((int)Math.Ceiling(0.8 * paraphrases.Count), $"{planted.Key}: {found} of {paraphrases.Count} paraphrases in theme '{theme.Str("label")}'");
            (found / (double)members.Count).ShouldBeGreaterThanOrEqualTo(0.7, $"{planted.Key}: {found} of the theme's {members.Count} messages are planted");
        }

        foreach (var (theme, members) in themes)
        {
            theme.GetProperty("size").GetInt32().ShouldBe(members.Count);
            theme.Str("label").ShouldNotBeNullOrWhiteSpace();
            theme.GetProperty("keywords").GetArrayLength().ShouldBeGreaterThanOrEqualTo(1);
            var examples = theme.GetProperty("example_ids").EnumerateArray().Select(e => e.GetInt64()).ToList();
            examples.Count.ShouldBe(Math.Min(5, members.Count));
            examples.ShouldAllBe(e => members.Contains(e));
            theme.GetProperty("sentiment").EnumerateObject().Sum(p => p.Value.GetInt32()).ShouldBe(members.Count);
            theme.GetProperty("topic").EnumerateObject().Sum(p => p.Value.GetInt32()).ShouldBe(members.Count);
            theme.GetProperty("growth").ValueKind.ShouldBe(JsonValueKind.Null);
            theme.GetProperty("trend").Str("bucket").ShouldBe("day");
            theme.GetProperty("trend").GetProperty("counts").EnumerateArray().Sum(c => c.GetInt32()).ShouldBe(members.Count);
        }
    }

    [Fact]
    public async Task The_same_messages_stored_in_another_order_give_the_same_themes()
    {
        var rows = BenchSet();
        var shuffled = rows.OrderBy(r => Fnv(r.Text)).ToList();
        var first = await StartAsync(StoreKind.Sqlite);
        var second = await StartAsync(StoreKind.Sqlite);
        var firstIds = await PostAllAsync(first, rows);
        var secondIds = await PostAllAsync(second, shuffled);

        var (_, firstThemes) = await ThemesAsync(first, rows.Count);
        var (_, secondThemes) = await ThemesAsync(second, rows.Count);

        Canonical(firstThemes, firstIds, rows).ShouldBe(Canonical(secondThemes, secondIds, shuffled));
        firstThemes.Count.ShouldBeGreaterThanOrEqualTo(6);
    }

    [Fact]
    public async Task A_message_stored_after_the_clustering_joins_the_theme_it_is_nearest_to()
    {
        var rows = BenchSet().Where(r => r.Theme is "dark-mode" or "battery-drain" or "double-charge").ToList();
        var app = await StartAsync(StoreKind.Sqlite, refreshSeconds: 3600);
        await PostAllAsync(app, rows);

        // Restarted: its first clustering at start reads the stored messages; the next is an hour away.
        var restarted = app.Restart();
        _apps.Add(restarted);
        var (_, themes) = await ThemesAsync(restarted, rows.Count);
        var darkMode = themes.Single(t => t.Theme.GetProperty("keywords").EnumerateArray().Any(k => k.GetString() == "dark")).Theme.Str("id");

        var created = await restarted.Client().PostFeedbackAsync(new { text = "Staring at your glowing white pages late in the evening gives me a headache, please make them darker." });
        var id = (await created.JsonAsync()).GetProperty("id").GetInt64();

        var joined = await Eventually.ReachedAsync(async () =>
        {
            var theme = await (await restarted.Client().GetAsync(new Uri($"/themes/{darkMode}?limit=200", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
            return theme.GetProperty("feedback_ids").EnumerateArray().Any(m => m.GetInt64() == id) ? theme : (JsonElement?)null;
        });
        joined.GetProperty("feedback_ids")[0].GetInt64().ShouldBe(id);
        (await restarted.Client().GetAsync(new Uri("/themes", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ListAsync(restarted, "/themes")).GetProperty("clustered").GetInt32().ShouldBe(rows.Count);
    }

    [Fact]
    public async Task Members_page_newest_first_and_a_window_before_the_messages_holds_none()
    {
        var rows = BenchSet().Where(r => r.Theme is "csv-export-timeout").ToList();
        var app = await StartAsync(StoreKind.Sqlite);
        var ids = await PostAllAsync(app, rows);
        var (_, themes) = await ThemesAsync(app, rows.Count);
        var (theme, members) = themes.Single();

        var first = await ListAsync(app, $"/themes/{theme.Str("id")}?limit=10");
        var second = await ListAsync(app, $"/themes/{theme.Str("id")}?limit=10&cursor={first.Str("next_cursor")}");
        var paged = first.GetProperty("feedback_ids").EnumerateArray().Concat(second.GetProperty("feedback_ids").EnumerateArray()).Select(e => e.GetInt64()).ToList();
        paged.ShouldBe([.. members.OrderDescending()]);
        paged.ShouldBe([.. ids.Where(members.Contains).OrderDescending()]);
        second.GetProperty("next_cursor").ValueKind.ShouldBe(JsonValueKind.Null);

        // Hour by hour over the last 7 days: every message in the last bucket or the one before (an hour may have turned).
        var trend = (await ListAsync(app, "/themes?bucket=hour")).GetProperty("themes")[0].GetProperty("trend");
        trend.Str("bucket").ShouldBe("hour");
        var counts = trend.GetProperty("counts").EnumerateArray().Select(c => c.GetInt32()).ToList();
        counts.Count.ShouldBeInRange(168, 169);
        counts.Sum().ShouldBe(members.Count);
        counts.Take(counts.Count - 2).ShouldAllBe(c => c == 0);
        DateTime.Parse(trend.Str("start"), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal).Minute.ShouldBe(0);
        (await ListAsync(app, "/themes?bucket=hour&from=2020-01-01")).GetProperty("themes")[0].GetProperty("trend").ValueKind.ShouldBe(JsonValueKind.Null);

        var earlier = await ListAsync(app, "/themes?from=2020-01-01&to=2020-01-08");
        earlier.GetProperty("themes").GetArrayLength().ShouldBe(0);
        earlier.GetProperty("messages").GetInt32().ShouldBe(0);
        (await ListAsync(app, $"/themes?min_size={members.Count + 1}")).GetProperty("themes").GetArrayLength().ShouldBe(0);
    }

    [Theory]
    [InlineData("/themes?from=yesterday", "from")]
    [InlineData("/themes?from=2026-12-02&to=2026-12-01", "from")]
    [InlineData("/themes?sentiment=angry", "sentiment")]
    [InlineData("/themes?topic=weather", "topic")]
    [InlineData("/themes?min_size=0", "min_size")]
    [InlineData("/themes?limit=101", "limit")]
    [InlineData("/themes?bucket=week", "bucket")]
    [InlineData("/themes/t1?cursor=nonsense", "cursor")]
    [InlineData("/themes/t1?limit=0", "limit")]
    public async Task Invalid_theme_requests_are_refused_with_a_problem(string path, string field)
    {
        var app = new FeedbackApp();
        _apps.Add(app);

        var response = await app.Client().GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue();
    }

    [Fact]
    public async Task An_unknown_theme_is_404_and_themes_need_a_key()
    {
        var app = new FeedbackApp();
        _apps.Add(app);

        var response = await app.Client().GetAsync(new Uri("/themes/t999", UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await app.Client(key: null).GetAsync(new Uri("/themes", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    /// <summary>bench/themes/set.csv (RFC 4180: quoted fields may hold commas, quotes and line breaks), without its header.</summary>
    internal static List<(string Theme, string Text)> BenchSet()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Themes", "set.csv"));
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (ch == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(ch);
                }
            }
            else if (ch == '"')
            {
                quoted = true;
            }
            else if (ch == ',')
            {
                record.Add(field.ToString());
                field.Clear();
            }
            else if (ch == '\n')
            {
                record.Add(field.ToString());
                field.Clear();
                records.Add(record);
                record = [];
            }
            else if (ch != '\r')
            {
                field.Append(ch);
            }
        }

        return [.. records.Skip(1).Select(r => (r[0], r[1]))];
    }

    private async Task<FeedbackApp> StartAsync(StoreKind store, int refreshSeconds = 1)
    {
        // A generous deep budget: every answer is then the deep one, with its sentence vector.
        Dictionary<string, string> settings = new(StringComparer.Ordinal)
        {
            ["CLASSIFIER"] = "deep",
            ["DEEP_DEADLINE_MS"] = "10000",
            ["THEMES_REFRESH_SECONDS"] = refreshSeconds.ToString(CultureInfo.InvariantCulture),
        };
        var app = new FeedbackApp(settings, store: store);
        _apps.Add(app);
        await Eventually.ReachedAsync(async () =>
        {
            var health = await (await app.Client(key: null).GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
            return health.Str("encoder") == "ready" ? health : (JsonElement?)null;
        });
        return app;
    }

    /// <summary>Stores the rows through POST /feedback/batch, a hundred at a time; their ids in the rows' order.</summary>
    private static async Task<List<long>> PostAllAsync(FeedbackApp app, List<(string Theme, string Text)> rows)
    {
        var ids = new List<long>();
        foreach (var chunk in rows.Chunk(100))
        {
            var response = await app.Client().PostAsJsonAsync(new Uri("/feedback/batch", UriKind.Relative), new { items = chunk.Select(r => new { text = r.Text }) }, TestContext.Current.CancellationToken);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var items = (await response.JsonAsync()).GetProperty("items").EnumerateArray().ToList();
            items.ShouldAllBe(i => i.GetProperty("status").GetInt32() == 201);
            ids.AddRange(items.Select(i => i.GetProperty("result").GetProperty("id").GetInt64()));
        }

        return ids;
    }

    /// <summary>Waits for a clustering of all <paramref name="count"/> messages; then every theme with its member ids.</summary>
    private static async Task<(JsonElement List, List<(JsonElement Theme, HashSet<long> Members)> Themes)> ThemesAsync(FeedbackApp app, int count)
    {
        var list = await Eventually.ReachedAsync(async () =>
        {
            var body = await ListAsync(app, "/themes?min_size=1&limit=100");
            return body.GetProperty("clustered").GetInt32() == count ? body : (JsonElement?)null;
        });
        var themes = new List<(JsonElement, HashSet<long>)>();
        foreach (var theme in list.GetProperty("themes").EnumerateArray())
        {
            var details = await ListAsync(app, $"/themes/{theme.Str("id")}?limit=200");
            themes.Add((theme, details.GetProperty("feedback_ids").EnumerateArray().Select(e => e.GetInt64()).ToHashSet()));
        }

        return (list, themes);
    }

    private static async Task<JsonElement> ListAsync(FeedbackApp app, string path)
    {
        var response = await app.Client().GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.JsonAsync();
    }

    /// <summary>The themes as sorted sets of texts with their labels: equal whatever ids the messages got.</summary>
    private static List<string> Canonical(List<(JsonElement Theme, HashSet<long> Members)> themes, List<long> ids, List<(string Theme, string Text)> rows)
    {
        var text = ids.Select((id, i) => (id, rows[i].Text)).ToDictionary(p => p.id, p => p.Text);
        return [.. themes.Select(t => t.Theme.Str("label") + " :: " + string.Join(" | ", t.Members.Select(m => text[m]).Order(StringComparer.Ordinal))).Order(StringComparer.Ordinal)];
    }

    private static uint Fnv(string text)
    {
        var hash = 2166136261;
        foreach (var ch in text)
        {
            hash = (hash ^ ch) * 16777619;
        }

        return hash;
    }
}
