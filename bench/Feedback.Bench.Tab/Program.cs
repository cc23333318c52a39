using System.Collections.Concurrent;
using Microsoft.Playwright;

// One signed-in dashboard tab for bench/scale.sh's "dashboard tab CPU": Debian's Chromium, headless, launched through
// Playwright with the browser tests' flags, signs in with the key as a person would (the form, not a cookie made up
// here), waits until the page says it is live (its /dashboard/events stream is open), prints READY and then keeps the
// tab open while the bench measures. Lines on standard input steer it: "reset" zeroes the request counts, "report"
// prints them (what the page fetched since the reset, by path), end of input closes the browser.
// Usage: Feedback.Bench.Tab BASE_URL API_KEY [CHROMIUM_PATH]
if (args.Length < 2)
{
    await Console.Error.WriteLineAsync("usage: Feedback.Bench.Tab BASE_URL API_KEY [CHROMIUM_PATH]");
    return 2;
}

var baseUrl = new Uri(args[0]);
var key = args[1];
var chromium = args.Length > 2 ? args[2] : "/usr/bin/chromium";
string[] chromiumArgs =
[
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
];

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = chromium,
    Headless = true,
    Args = chromiumArgs,
});
var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
var page = await context.NewPageAsync();
page.SetDefaultTimeout(120_000);

// Counted per path (the query left off), so the report says how often the page reloaded what it shows.
var requests = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
var errors = 0;
page.Request += (_, request) => requests.AddOrUpdate(new Uri(request.Url).AbsolutePath, 1, (_, n) => n + 1);
page.Console += (_, message) =>
{
    if (message.Type == "error")
    {
        Interlocked.Increment(ref errors);
        Console.Error.WriteLine("tab console error: " + message.Text);
    }
};

await page.GotoAsync(baseUrl.ToString());
await page.GetByLabel("API key").FillAsync(key);
await page.GetByRole(AriaRole.Button, new() { Name = "Open the dashboard" }).ClickAsync();
await page.WaitForSelectorAsync("#live[data-state=on]");
Console.WriteLine("READY");

while (await Console.In.ReadLineAsync() is { } line)
{
    switch (line.Trim())
    {
        case "reset":
            requests.Clear();
            Interlocked.Exchange(ref errors, 0);
            break;
        case "report":
            var live = await page.GetAttributeAsync("#live", "data-state");
            var counts = string.Join(' ', requests.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={r.Value}"));
            Console.WriteLine($"REQUESTS total={requests.Values.Sum()} live={live} console_errors={errors} {counts}");
            break;
    }
}

return 0;
