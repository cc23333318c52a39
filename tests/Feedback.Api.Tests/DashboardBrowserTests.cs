using System.Net;
using System.Net.Http.Json;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// The dashboard in a real browser (Debian's Chromium driven by Playwright) against the real API as a child
/// process. Screenshots go to artifacts/ in the test output directory and are attached to the test result.
/// </summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string Key = "browser-test-key-0123456789";

    /// <summary>A key with the read scope only, from API_KEYS_FILE: it may see everything but not set a label.</summary>
    private const string ReaderKey = "browser-reader-key-0123456789";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
    ];

    private readonly string _dataDir = Directory.CreateTempSubdirectory("feedback-browser-").FullName;
    private readonly List<string> _consoleErrors = [];
    private ServerProcess? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private HttpClient? _api;

    public static string ArtifactsDirectory => Path.Combine(AppContext.BaseDirectory, "artifacts");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            return;
        }

        await StartServerAsync(new Dictionary<string, string>(StringComparer.Ordinal));
        // Every expectation retries until it holds; its limit (Playwright's default is 5 s) only ends a broken page's
        // test, and a browser sharing two cores with parallel builds can take longer than 5 s to show a change.
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    /// <summary>The API as a child process on this test's data directory, with <paramref name="extra"/> settings on top.</summary>
    private async Task StartServerAsync(Dictionary<string, string> extra)
    {
        var keysFile = Path.Combine(_dataDir, "keys.txt");
        await File.WriteAllTextAsync(
            keysFile,
            $"reader read sha256:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ReaderKey)))}\n");
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["API_KEY"] = Key,
            ["API_KEYS_FILE"] = keysFile,
            ["DATA_DIR"] = _dataDir,
            ["AI_PROVIDER_ENABLED"] = "false",
            ["LLM_TOKEN_BUDGET_MONTHLY"] = "500",
        };
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }

        _server = ServerProcess.Start(environment);
        // A server that never got ready is stopped here: after a failed InitializeAsync the class is not disposed
        // (two such servers were found still running after a test run on a loaded machine).
        // The wait is generous because a machine busy with parallel builds can take this long to start a process.
        if (!await _server.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)))
        {
            var output = _server.Output;
            _server.Dispose();
            _server = null;
            Assert.Fail("The server did not start: " + output);
        }

        _api = new HttpClient { BaseAddress = _server.BaseAddress };
        _api.DefaultRequestHeaders.Add("X-API-Key", Key);

        // A SQLite server loads EF Core at its first read (nothing before it uses EF): seconds on a machine busy with
        // parallel builds, more than the page's five-second expectations allow. One read first keeps those about the page.
        (await _api.GetAsync(new Uri("/alerts?state=open", UriKind.Relative))).EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        _api?.Dispose();
        _server?.Dispose();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task A_support_lead_signs_in_sees_new_feedback_arrive_live_filters_it_and_opens_why()
    {
        SkipWithoutChromium();
        await PostAsync("I love the new reports page, it is wonderful and so easy to use. Thank you!");
        SpendLlmTokensThisHour(calls: 3, input: 402, output: 42);
        var page = await OpenPageAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });

        await page.GotoAsync(_server!.BaseAddress.ToString());
        await page.GetByLabel("API key").FillAsync(Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Open the dashboard" }).ClickAsync();
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#live")).ToHaveAttributeAsync("data-state", "on");

        // The month's LLM spend against LLM_TOKEN_BUDGET_MONTHLY, past 80 % of it.
        await Assertions.Expect(page.Locator("#kpi-llm-month")).ToHaveTextAsync("This month: 444 of 500 tokens (89 %)");
        await Assertions.Expect(page.Locator("#kpi-llm-month")).ToHaveAttributeAsync("data-state", "near");

        // Submitted through the API after the page loaded: it must show up without a reload.
        await PostAsync("I was charged twice for Zanzibar this month, please refund me immediately. Unacceptable.");
        await PostAsync("The app crashes every time I open it. Terrible, I lost all my data.");
        var charged = page.Locator("#feed tr", new() { HasText = "charged twice for Zanzibar" });
        await Assertions.Expect(charged).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#kpi-total")).ToHaveTextAsync("3");
        await Assertions.Expect(page.Locator("#alerts > li.group")).ToHaveCountAsync(2);

        await page.Locator("select[name=sentiment]").SelectOptionAsync("positive");
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#feed tr")).ToContainTextAsync("reports page");
        await page.Locator("select[name=sentiment]").SelectOptionAsync("");
        await page.Locator("select[name=topic]").SelectOptionAsync("billing");
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(1);
        await page.Locator("select[name=topic]").SelectOptionAsync("");
        await page.Locator("select[name=alert]").SelectOptionAsync("true");
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(2);
        await page.Locator("select[name=alert]").SelectOptionAsync("");
        await page.Locator("input[name=q]").FillAsync("zanzibar");
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(1);
        await page.GetByRole(AriaRole.Button, new() { Name = "Clear" }).ClickAsync();
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(3);

        await charged.ClickAsync();
        var detail = page.Locator("#detail");
        await Assertions.Expect(detail).ToBeVisibleAsync();
        await Assertions.Expect(detail.Locator("#detail-text")).ToContainTextAsync("charged twice for Zanzibar");
        await Assertions.Expect(detail.Locator("#detail-why")).ToContainTextAsync("local classifier");
        await Assertions.Expect(detail.Locator("#detail-facts")).ToContainTextAsync("ml_fallback");
        await Assertions.Expect(detail.Locator("#detail-labels")).ToContainTextAsync("billing");
        await Assertions.Expect(detail.Locator("#detail-revisions")).ToContainTextAsync("first answer stands");
        await SaveScreenshotAsync(page, "dashboard-detail-desktop.png");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(detail).ToBeHiddenAsync();
        await SaveScreenshotAsync(page, "dashboard-desktop.png");

        _consoleErrors.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_complaint_opens_an_alert_group_live_a_near_duplicate_joins_it_and_resolving_closes_it()
    {
        SkipWithoutChromium();
        var page = await OpenPageAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        await page.GotoAsync(_server!.BaseAddress.ToString());
        await page.GetByLabel("API key").FillAsync(Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Open the dashboard" }).ClickAsync();
        await Assertions.Expect(page.Locator("#alerts")).ToContainTextAsync("No open alert groups");
        await Assertions.Expect(page.Locator("#live")).ToHaveAttributeAsync("data-state", "on");

        await PostAsync("I was charged twice for my Zanzibar plan this month, please refund me immediately. Unacceptable.");
        var groups = page.Locator("#alerts > li.group");
        await Assertions.Expect(groups).ToHaveCountAsync(1);
        var billing = groups.Filter(new() { HasText = "charged twice" });
        await Assertions.Expect(billing.Locator(".group-size")).ToHaveTextAsync("1 message");
        await Assertions.Expect(billing).ToContainTextAsync("billing");
        await Assertions.Expect(billing.Locator(".group-summary")).ToContainTextAsync("charged twice for my Zanzibar plan");
        await Assertions.Expect(billing.Locator(".deliveries")).ToContainTextAsync("log:");

        // The same complaint again joins the group rather than opening another; a different one opens its own.
        await PostAsync("I was charged twice for my Zanzibar plan this month, please refund me immediately!! Unacceptable!");
        await Assertions.Expect(billing.Locator(".group-size")).ToHaveTextAsync("2 messages");
        await PostAsync("The app crashes every time I open it. Terrible, I lost all my data.");
        await Assertions.Expect(groups).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#kpi-alerts")).ToHaveTextAsync("2");

        await billing.GetByRole(AriaRole.Button, new() { Name = "Messages (2)" }).ClickAsync();
        await Assertions.Expect(billing.Locator(".group-messages > li")).ToHaveCountAsync(2);
        await SaveScreenshotAsync(page, "dashboard-alert-groups.png");
        await billing.Locator(".group-messages button").First.ClickAsync();
        await Assertions.Expect(page.Locator("#detail-text")).ToContainTextAsync("charged twice for my Zanzibar plan");
        await page.Keyboard.PressAsync("Escape");

        await billing.GetByRole(AriaRole.Button, new() { Name = "Resolve" }).ClickAsync();
        await Assertions.Expect(groups).ToHaveCountAsync(1);
        await Assertions.Expect(groups).ToContainTextAsync("crashes every time");
        await Assertions.Expect(page.Locator("#kpi-alerts")).ToHaveTextAsync("1");
        var resolved = await _api!.GetStringAsync(new Uri("/alerts?state=resolved", UriKind.Relative), TestContext.Current.CancellationToken);
        resolved.ShouldContain("charged twice for my Zanzibar plan");
        _consoleErrors.ShouldBeEmpty();
    }

    [Fact]
    public async Task On_a_phone_the_dashboard_fits_the_screen_without_sideways_scrolling()
    {
        SkipWithoutChromium();
        await PostAsync("The checkout page is confusing and the button is hidden on my phone.");
        await PostAsync("Great support team, they fixed my billing issue in minutes.");
        var page = await OpenPageAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 390, Height = 844 },
            DeviceScaleFactor = 2,
            IsMobile = true,
            HasTouch = true,
        });

        await page.GotoAsync(_server!.BaseAddress.ToString());
        await page.GetByLabel("API key").FillAsync(Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Open the dashboard" }).ClickAsync();
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(2);

        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
        await SaveScreenshotAsync(page, "dashboard-phone.png");
        overflow.ShouldBeLessThanOrEqualTo(0);
        _consoleErrors.ShouldBeEmpty();
    }

    [Fact]
    public async Task An_admin_labels_a_message_in_its_detail_view_and_a_reader_is_told_labelling_needs_admin()
    {
        SkipWithoutChromium();
        await PostAsync("I was charged twice for Zanzibar this month, please refund me immediately. Unacceptable.");
        var page = await SignInAsync(Key);

        await page.Locator("#feed tr").First.ClickAsync();
        var detail = page.Locator("#detail");
        await Assertions.Expect(detail.Locator("#label-current")).ToContainTextAsync("No one has labelled this message yet.");
        await detail.Locator("#label-sentiment").SelectOptionAsync("mixed");
        await detail.Locator("#label-topic").SelectOptionAsync("ux");
        await detail.GetByRole(AriaRole.Button, new() { Name = "Save label" }).ClickAsync();

        await Assertions.Expect(detail.Locator("#label-current")).ToContainTextAsync("mixed / ux, set by");
        // The model's answer is still shown as it was; the label sits beside it.
        await Assertions.Expect(detail.Locator("#detail-labels")).ToContainTextAsync("billing");
        var stored = await (await _api!.GetAsync(new Uri("/feedback/1", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
        stored.GetProperty("label").Str("topic").ShouldBe("ux");
        await SaveScreenshotAsync(page, "dashboard-label-admin.png");

        var reader = await SignInAsync(ReaderKey);
        await reader.Locator("#feed tr").First.ClickAsync();
        await Assertions.Expect(reader.Locator("#label-current")).ToContainTextAsync("mixed / ux");
        await Assertions.Expect(reader.Locator("#label-admin-only")).ToBeVisibleAsync();
        await Assertions.Expect(reader.Locator("#label-form")).ToBeHiddenAsync();
        _consoleErrors.ShouldBeEmpty();
    }

    [Fact]
    public async Task The_themes_panel_shows_each_theme_with_its_size_and_a_click_lists_its_messages()
    {
        SkipWithoutChromium();
        // This test's server clusters a second after messages come, and answers each with the encoder (whose vectors
        // the themes are made of) rather than the lexical model's quick provisional answer.
        _api!.Dispose();
        _server!.Dispose();
        await StartServerAsync(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["CLASSIFIER"] = "deep",
            ["DEEP_DEADLINE_MS"] = "10000",
            ["THEMES_REFRESH_SECONDS"] = "1",
        });
        await UntilAsync(async () => (await JsonAsync("/health")).Str("encoder") == "ready");
        var rows = ThemeTests.BenchSet().Where(r => r.Theme is "dark-mode" or "double-charge" or "battery-drain").ToList();
        var response = await _api!.PostAsJsonAsync(
            new Uri("/feedback/batch", UriKind.Relative), new { items = rows.Select(r => new { text = r.Text }) }, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var ids = (await response.JsonAsync()).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("result").GetProperty("id").GetInt64()).ToList();
        var text = ids.Select((id, i) => (id, rows[i].Text)).ToDictionary(p => p.id, p => p.Text);
        await UntilAsync(async () => (await JsonAsync("/themes")).GetProperty("clustered").GetInt32() == rows.Count);
        var themes = (await JsonAsync("/themes?bucket=hour&from=" + Uri.EscapeDataString(DateTime.UtcNow.AddHours(-48).ToString("O")))).GetProperty("themes").EnumerateArray().ToList();
        themes.Count.ShouldBeGreaterThanOrEqualTo(2);

        var page = await SignInAsync(Key);
        var panel = page.Locator("#themes > li");
        await Assertions.Expect(panel).ToHaveCountAsync(themes.Count);
        foreach (var theme in themes)
        {
            var item = page.Locator($".theme[data-theme-id=\"{theme.Str("id")}\"]");
            await Assertions.Expect(item.Locator(".theme-label")).ToHaveTextAsync(theme.Str("label"));
            await Assertions.Expect(item.Locator(".theme-size")).ToHaveTextAsync($"{theme.GetProperty("size").GetInt32()} messages");
            await Assertions.Expect(item.Locator(".spark polyline")).ToHaveCountAsync(1);
            await Assertions.Expect(item.Locator(".theme-sentiment span")).Not.ToHaveCountAsync(0);
        }

        await SaveScreenshotAsync(page, "dashboard-themes.png");

        var largest = themes[0];
        var members = (await JsonAsync($"/themes/{largest.Str("id")}?limit=200")).GetProperty("feedback_ids").EnumerateArray().Select(e => e.GetInt64()).ToList();
        await page.Locator($".theme[data-theme-id=\"{largest.Str("id")}\"]").ClickAsync();
        await Assertions.Expect(page.Locator("#theme-filter-label")).ToHaveTextAsync(largest.Str("label"));
        var shown = Math.Min(members.Count, 25);
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(shown);
        for (var i = 0; i < shown; i++)
        {
            // Newest first, as GET /themes/{id} lists them.
            await Assertions.Expect(page.Locator("#feed tr").Nth(i)).ToHaveAttributeAsync("data-id", members[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Assertions.Expect(page.Locator("#feed tr").Nth(i).Locator(".msg")).ToHaveTextAsync(text[members[i]]);
        }

        await SaveScreenshotAsync(page, "dashboard-theme-messages.png");
        await page.Locator("#feed tr").First.ClickAsync();
        await Assertions.Expect(page.Locator("#detail-text")).ToHaveTextAsync(text[members[0]]);
        await page.Keyboard.PressAsync("Escape");

        await page.GetByRole(AriaRole.Button, new() { Name = "Show all feedback" }).ClickAsync();
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(25);
        await Assertions.Expect(page.Locator("#theme-filter")).ToBeHiddenAsync();
        _consoleErrors.ShouldBeEmpty();
    }

    /// <summary>
    /// A new message is marked in the feed for a moment with nothing animating: under steady traffic the feed reloads
    /// every second, and the 2.5 s fade it had kept Chromium repainting the table on every frame (bench/scale.sh: the tab
    /// took about 40 % of a core with the fade and 16 % without, at 20 messages a second).
    /// </summary>
    [Fact]
    public async Task A_new_message_is_marked_in_the_feed_and_unmarked_without_the_page_animating()
    {
        SkipWithoutChromium();
        await PostAsync("The checkout page froze twice before my payment finally went through.");
        var page = await SignInAsync(Key);
        await Assertions.Expect(page.Locator("#live")).ToHaveAttributeAsync("data-state", "on");

        await PostAsync("Refund took over six weeks to reach my account.");
        // Checked in the page on every frame, so the mark is seen while it is shown however slow the machine is.
        await page.WaitForFunctionAsync("() => document.querySelector('#feed tr.fresh') !== null", null, new() { PollingInterval = null });
        (await page.EvaluateAsync<int>("() => document.getAnimations().length")).ShouldBe(0);
        await Assertions.Expect(page.Locator("#feed tr.fresh")).ToContainTextAsync("six weeks");
        await Assertions.Expect(page.Locator("#feed tr.fresh")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#feed tr")).ToHaveCountAsync(2);
        _consoleErrors.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_wrong_key_keeps_the_dashboard_closed()
    {
        SkipWithoutChromium();
        var page = await OpenPageAsync(new BrowserNewContextOptions());

        await page.GotoAsync(_server!.BaseAddress.ToString());
        await page.GetByLabel("API key").FillAsync("not-the-key-0000000000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Open the dashboard" }).ClickAsync();

        await Assertions.Expect(page.Locator("#login-error")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#app")).ToBeHiddenAsync();
    }

    private async Task<IPage> SignInAsync(string key)
    {
        var page = await OpenPageAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        await page.GotoAsync(_server!.BaseAddress.ToString());
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Open the dashboard" }).ClickAsync();
        await Assertions.Expect(page.Locator("#feed tr")).Not.ToHaveCountAsync(0);
        return page;
    }

    private async Task<System.Text.Json.JsonElement> JsonAsync(string path) =>
        await (await _api!.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

    /// <summary>Background work (the encoder loading, a clustering) has no fixed duration: this waits for it, with a generous guard against a hang.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The server never reached the state the test waits for.");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static void SkipWithoutChromium()
    {
        if (!File.Exists(ChromiumPath))
        {
            Assert.Skip($"Chromium is not installed at {ChromiumPath} (apt-get install -y chromium; .ci/run does this).");
        }
    }

    private async Task<IPage> OpenPageAsync(BrowserNewContextOptions options)
    {
        var context = await _browser!.NewContextAsync(options);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_consoleErrors)
                {
                    _consoleErrors.Add(message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_consoleErrors)
            {
                _consoleErrors.Add(error);
            }
        };
        return page;
    }

    /// <summary>LLM usage as the writer counts it, put straight in the file: this server has no LLM to spend it.</summary>
    private void SpendLlmTokensThisHour(int calls, int input, int output)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dataDir, "feedback.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO llm_usage (hour, calls, input_tokens, output_tokens) VALUES ($hour, $calls, $input, $output)";
        var now = DateTime.UtcNow;
        command.Parameters.AddWithValue("$hour", new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0, DateTimeKind.Utc));
        command.Parameters.AddWithValue("$calls", calls);
        command.Parameters.AddWithValue("$input", input);
        command.Parameters.AddWithValue("$output", output);
        command.ExecuteNonQuery();
    }

    private async Task PostAsync(string text)
    {
        var response = await _api!.PostAsJsonAsync(new Uri("/feedback", UriKind.Relative), new { text }, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    private static async Task SaveScreenshotAsync(IPage page, string name)
    {
        // The header is sticky: a full-page shot taken while scrolled would show it mid-page.
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        Directory.CreateDirectory(ArtifactsDirectory);
        var path = Path.Combine(ArtifactsDirectory, name);
        var bytes = await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.Current.AddAttachment(name, bytes, "image/png");
    }
}
