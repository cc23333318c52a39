using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>POST /dashboard/session, the one write anyone may send without a key: bounded in size, rate and slowness, and watched.</summary>
public sealed class DashboardSignInTests : IDisposable
{
    private readonly List<FeedbackApp> _apps = [];

    public void Dispose()
    {
        foreach (var app in _apps)
        {
            app.Dispose();
        }
    }

    [Fact]
    public async Task A_sign_in_body_larger_than_4_KB_is_413_problem_details()
    {
        var app = Start();
        var body = $$"""{"key": "{{FeedbackApp.Key}}", "padding": "{{new string('x', 5000)}}"}""";

        var response = await app.Client(key: null).PostAsync(
            new Uri("/dashboard/session", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.JsonAsync()).Str("type").ShouldBe("/problems/payload-too-large");
        response.Headers.Contains("Set-Cookie").ShouldBeFalse();
    }

    [Fact]
    public async Task A_sign_in_body_without_a_length_is_cut_off_at_4_KB()
    {
        var app = Start();
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes($$"""{"key": "{{FeedbackApp.Key}}", "padding": "{{new string('x', 50_000)}}"}""")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/dashboard/session") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await app.Client(key: null).SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.JsonAsync()).Str("type").ShouldBe("/problems/payload-too-large");
    }

    [Fact]
    public async Task Sign_ins_past_the_limit_of_one_address_are_429_with_retry_after_while_another_address_still_signs_in()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
        var app = Start(time, ("DASHBOARD_SIGN_INS_PER_MINUTE", "2"));
        var client = app.Client(key: null);

        (await SignInAsync(client, "203.0.113.7", "wrong-key-0000000000")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await SignInAsync(client, "203.0.113.7", "wrong-key-0000000000")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var refused = await SignInAsync(client, "203.0.113.7", FeedbackApp.Key);

        refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(30));
        (await refused.JsonAsync()).Str("type").ShouldBe("/problems/rate-limited");
        refused.Headers.Contains("Set-Cookie").ShouldBeFalse();
        (await SignInAsync(client, "198.51.100.9", FeedbackApp.Key)).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        // One token comes back every 30 s.
        time.Advance(TimeSpan.FromSeconds(30));
        (await SignInAsync(client, "203.0.113.7", FeedbackApp.Key)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Failed_sign_ins_are_counted_and_logged_at_most_once_per_interval_with_the_count()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
        var app = Start(time, ("DASHBOARD_SIGN_IN_LOG_SECONDS", "60"), ("Logging:LogLevel:Feedback", "Warning"));
        var client = app.Client(key: null);

        for (var i = 0; i < 3; i++)
        {
            (await SignInAsync(client, "203.0.113.7", $"wrong-key-{i}-000000000")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        (await SignInAsync(client, "203.0.113.7", FeedbackApp.Key)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        FailureLines(app).ShouldBe(["1"]);

        time.Advance(TimeSpan.FromSeconds(61));
        (await SignInAsync(client, "203.0.113.7", "wrong-key-3-000000000")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        // The two failures held back and this one, in one line.
        FailureLines(app).ShouldBe(["1", "3"]);
        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        PrometheusText.Parse(metrics).Series("dashboard_sign_in_failures_total").Sum(s => s.Value).ShouldBe(4);
        string.Join("\n", app.Logs.Events.Select(e => e.Text)).ShouldNotContain("wrong-key");
    }

    [Fact]
    public void A_body_sent_slower_than_1_KB_a_second_is_dropped_after_5_seconds()
    {
        var app = Start();

        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        limits.MinRequestBodyDataRate.ShouldNotBeNull();
        limits.MinRequestBodyDataRate.BytesPerSecond.ShouldBe(1024);
        limits.MinRequestBodyDataRate.GracePeriod.ShouldBe(TimeSpan.FromSeconds(5));
    }

    private static string[] FailureLines(FeedbackApp app) =>
    [
        .. app.Logs.Events
            .Where(e => e.Level == LogLevel.Warning && e.Text.Contains("dashboard sign-ins failed", StringComparison.Ordinal))
            .Select(e => e.Text.Split(' ')[0]),
    ];

    private static Task<HttpResponseMessage> SignInAsync(HttpClient client, string peer, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/dashboard/session")
        {
            Content = new StringContent($$"""{"key": "{{key}}"}""", Encoding.UTF8, "application/json"),
        }.From(peer);

        // As the page's own fetch does: once a cookie is set, a write without it would be refused as cross-site.
        request.Headers.Add("Sec-Fetch-Site", "same-origin");
        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private FeedbackApp Start(params (string Key, string Value)[] settings) => Start(null, settings);

    private FeedbackApp Start(TimeProvider? time, params (string Key, string Value)[] settings)
    {
        var app = new FeedbackApp(settings.ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal), time) { TestServices = TestPeer.Add };
        _apps.Add(app);
        return app;
    }
}
