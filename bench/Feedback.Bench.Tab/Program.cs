using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Playwright;

// One signed-in dashboard tab for bench/scale.sh's "dashboard tab CPU": Debian's Chromium, headless, launched through
// Playwright with the browser tests' flags, signs in with the key as a person would (the form, not a cookie made up
// here), waits until the page says it is live (its /dashboard/events stream is open), prints READY and then keeps the
// tab open while the bench measures. Lines on standard input steer it: "reset" zeroes the request counts, "report"
// prints them (what the page fetched since the reset, by path), end of input closes the browser.
// With --detached, Chromium is started here and Playwright connects to it only to sign in, then lets go (no request
// counts then: the bench counts the server's log lines instead).
// Usage: Feedback.Bench.Tab BASE_URL API_KEY [CHROMIUM_PATH] [--detached]
var detached = args.Contains("--detached", StringComparer.Ordinal);
args = [.. args.Where(a => a != "--detached")];
if (args.Length < 2)
{
    await Console.Error.WriteLineAsync("usage: Feedback.Bench.Tab BASE_URL API_KEY [CHROMIUM_PATH] [--detached]");
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

var playwright = await Playwright.CreateAsync();
IBrowser browser;
Process? chromiumProcess = null;
PosixSignalRegistration? termination = null;
string? profile = null;
if (detached)
{
    // Chromium started here, not by Playwright, so that the driver can let go of it once the tab is live: a person's tab
    // has no automation protocol attached, which reports every request and console line to the driver.
    profile = Directory.CreateTempSubdirectory("feedback-tab-").FullName;
    var start = new ProcessStartInfo(chromium) { RedirectStandardError = true, UseShellExecute = false };
    foreach (var argument in chromiumArgs.Concat(["--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank"]))
    {
        start.ArgumentList.Add(argument);
    }

    chromiumProcess = Process.Start(start)!;
    // Stopped with the driver, however it is stopped: a detached Chromium has no other owner.
    var started = chromiumProcess;
    termination = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => started.Kill(entireProcessTree: true));
    string? endpoint = null;
    while (endpoint is null && await chromiumProcess.StandardError.ReadLineAsync() is { } line)
    {
        const string marker = "DevTools listening on ";
        if (line.StartsWith(marker, StringComparison.Ordinal))
        {
            endpoint = line[marker.Length..].Trim();
        }
    }

    if (endpoint is null)
    {
        await Console.Error.WriteLineAsync("Chromium did not say where its DevTools endpoint is.");
        return 1;
    }

    _ = chromiumProcess.StandardError.ReadToEndAsync();
    browser = await playwright.Chromium.ConnectOverCDPAsync(endpoint);
}
else
{
    browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = chromium,
        Headless = true,
        Args = chromiumArgs,
    });
}

// Detached, the page is opened in Chromium's default context, which outlives the connection.
var context = detached ? browser.Contexts[0] : await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
var page = await context.NewPageAsync();
if (detached)
{
    await page.SetViewportSizeAsync(1280, 900);
}

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
if (detached)
{
    // Lets go of the browser (the default context and its page stay open) and stops Playwright's Node driver.
    await browser.CloseAsync();
    playwright.Dispose();
}

Console.WriteLine("READY");

while (await Console.In.ReadLineAsync() is { } line)
{
    switch (line.Trim())
    {
        case "reset":
            requests.Clear();
            Interlocked.Exchange(ref errors, 0);
            break;
        case "report" when detached:
            Console.WriteLine("REQUESTS total=unknown live=unknown");
            break;
        case "report":
            var live = await page.GetAttributeAsync("#live", "data-state");
            var counts = string.Join(' ', requests.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={r.Value}"));
            Console.WriteLine($"REQUESTS total={requests.Values.Sum()} live={live} console_errors={errors} {counts}");
            break;
    }
}

if (chromiumProcess is not null)
{
    termination?.Dispose();
    chromiumProcess.Kill(entireProcessTree: true);
    await chromiumProcess.WaitForExitAsync();
    Directory.Delete(profile!, recursive: true);
}
else
{
    await browser.CloseAsync();
    playwright.Dispose();
}

return 0;
