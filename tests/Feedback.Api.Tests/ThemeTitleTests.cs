using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Feedback.Api.Themes;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// THEME_TITLES=llm against the loopback OpenAI-compatible server: each theme gets a short title from the LLM once, kept
/// under the theme's content, its tokens counted with every other LLM call's.
/// </summary>
public sealed class ThemeTitleTests : IAsyncLifetime
{
    private const string TitleInstructions = "You name themes found in customer feedback";

    private readonly List<FeedbackApp> _apps = [];
    private FakeOpenAiServer _llm = null!;

    public async ValueTask InitializeAsync()
    {
        _llm = await FakeOpenAiServer.StartAsync();
        // A title made of the first key phrase the request names, so each theme's title shows it was asked about that theme.
        _llm.Reply = request => request.System.StartsWith(TitleInstructions, StringComparison.Ordinal)
            ? new FakeReply.Answer(JsonSerializer.Serialize(new { title = "About " + request.User.Split('\n')[1] }))
            : FakeReply.Labels("negative", "billing", 0.9);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        await _llm.DisposeAsync();
    }

    [Fact]
    public async Task Each_theme_gets_a_title_from_the_llm_once_and_its_tokens_are_counted()
    {
        var rows = ThemeTests.BenchSet().Where(r => r.Theme is "double-charge" or "dark-mode").Concat(ThemeTests.BenchSet().Where(r => r.Theme.Length == 0).Take(20)).ToList();
        var app = new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["CLASSIFIER"] = "deep",
            ["DEEP_DEADLINE_MS"] = "10000",
            ["THEMES_REFRESH_SECONDS"] = "1",
            ["THEME_TITLES"] = "llm",
            ["OPENAI_BASE_URL"] = _llm.BaseUrl.ToString(),
            ["AI_DEADLINE_MS"] = "10000",
        });
        _apps.Add(app);
        await EventuallyAsync(async () => (await GetAsync(app, "/health")).Str("encoder") == "ready");
        var response = await app.Client().PostAsJsonAsync(new Uri("/feedback/batch", UriKind.Relative), new { items = rows.Select(r => new { text = r.Text }) }, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);

        var themes = await EventuallyAsync(async () =>
        {
            var list = await GetAsync(app, "/themes?min_size=1&limit=100");
            var items = list.GetProperty("themes").EnumerateArray().ToList();
            return list.GetProperty("clustered").GetInt32() == rows.Count && items.Count > 0 && items.All(t => t.GetProperty("title").ValueKind == JsonValueKind.String)
                ? items
                : null;
        });

        themes.Count.ShouldBeGreaterThanOrEqualTo(2);
        foreach (var theme in themes)
        {
            theme.Str("title").ShouldBe("About " + theme.GetProperty("keywords")[0].GetString());
            (await GetAsync(app, $"/themes/{theme.Str("id")}")).Str("title").ShouldBe(theme.Str("title"));
        }

        var titleRequests = _llm.Requests.Where(r => r.System.StartsWith(TitleInstructions, StringComparison.Ordinal)).ToList();
        titleRequests.Count.ShouldBe(themes.Count);
        titleRequests.ShouldAllBe(r => r.User.Contains("<feedback>", StringComparison.Ordinal));

        // The same themes again: their titles are kept, nothing is asked.
        var titles = app.Services.GetRequiredService<ThemeTitles>();
        (await titles.RefreshAsync(app.Services.GetRequiredService<CurrentThemes>().Snapshot, TestContext.Current.CancellationToken)).ShouldBe(0);

        // Every call the model answered is counted, the titles' with the classifications'.
        var llm = (await GetAsync(app, "/stats")).GetProperty("llm");
        llm.GetProperty("calls").GetInt32().ShouldBe(_llm.Requests.Count);
        llm.GetProperty("input_tokens").GetInt64().ShouldBe(120L * _llm.Requests.Count);
    }

    private static async Task<JsonElement> GetAsync(FeedbackApp app, string path)
    {
        var response = await app.Client().GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.JsonAsync();
    }

    /// <summary>Background work has no fixed duration: this waits for it (a generous guard against a hang), it does not time it.</summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> attempt)
        where T : class
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            if (await attempt() is { } done)
            {
                return done;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException("The service never reached the expected state.");
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition) =>
        await EventuallyAsync<object>(async () => await condition() ? new object() : null);
}
