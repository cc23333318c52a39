using System.Net;
using System.Net.Http.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Writes sent with the dashboard's cookie come from its own page only; X-Forwarded-* count from a trusted proxy only;
/// the cookie is Secure and __Host- over HTTPS.
/// </summary>
public sealed class DashboardCookieTests : IDisposable
{
    private const string Proxy = "10.0.0.5";
    private const long NoSuchAlert = 424242;

    private readonly List<FeedbackApp> _apps = [];

    public void Dispose()
    {
        foreach (var app in _apps)
        {
            app.Dispose();
        }
    }

    [Theory]
    [InlineData("Origin", "https://evil.example")]
    [InlineData("Origin", "null")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData(null, null)]
    public async Task A_write_with_the_session_cookie_from_anywhere_but_the_page_itself_is_403(string? header, string? value)
    {
        var app = Start();
        var browser = await SignedInBrowserAsync(app);

        var response = await browser.SendAsync(With(new HttpRequestMessage(HttpMethod.Post, $"/alerts/{NoSuchAlert}/resolve"), header, value), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await response.JsonAsync()).Str("type").ShouldBe("/problems/cross-origin");

        // Nor may another site sign the browser out.
        (await browser.SendAsync(With(new HttpRequestMessage(HttpMethod.Delete, "/dashboard/session"), header, value), TestContext.Current.CancellationToken))
            .StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await browser.GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("Origin", "http://localhost")]
    [InlineData("Sec-Fetch-Site", "same-origin")]
    public async Task A_write_with_the_session_cookie_from_the_page_itself_goes_through(string header, string value)
    {
        var app = Start();
        var browser = await SignedInBrowserAsync(app);

        var response = await browser.SendAsync(With(new HttpRequestMessage(HttpMethod.Post, $"/alerts/{NoSuchAlert}/resolve"), header, value), TestContext.Current.CancellationToken);

        // Past the origin check, the route answers for itself: there is no such alert group.
        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await browser.SendAsync(With(new HttpRequestMessage(HttpMethod.Delete, "/dashboard/session"), header, value), TestContext.Current.CancellationToken))
            .StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_write_with_an_api_key_is_not_judged_by_its_origin()
    {
        var app = Start();
        var browser = await SignedInBrowserAsync(app);
        var request = With(new HttpRequestMessage(HttpMethod.Post, $"/alerts/{NoSuchAlert}/resolve"), "Origin", "https://evil.example");
        request.Headers.Add("X-API-Key", FeedbackApp.Key);

        var response = await browser.SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Forwarded_headers_from_a_peer_that_is_not_a_trusted_proxy_change_nothing()
    {
        var app = Start(("DASHBOARD_SIGN_INS_PER_MINUTE", "1"));
        var browser = app.Client(key: null);

        var first = await SignInAsync(browser, from: Proxy, forwardedFor: "198.51.100.1", proto: "https");
        var second = await SignInAsync(browser, from: Proxy, forwardedFor: "198.51.100.2", proto: "https");

        // Neither claimed HTTPS nor the claimed client address counted: a plain cookie, and one bucket for the peer.
        first.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var cookie = first.Headers.GetValues("Set-Cookie").Single();
        cookie.ShouldStartWith("feedback_session=");
        cookie.ShouldNotContain("secure", Case.Insensitive);
        second.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_over_https_the_cookie_is_secure_with_a_host_prefix_and_each_client_has_its_own_limit()
    {
        var app = Start(("DASHBOARD_SIGN_INS_PER_MINUTE", "1"), ("TRUSTED_PROXIES", "10.0.0.0/24"));
        var browser = app.Client(key: null);

        var first = await SignInAsync(browser, from: Proxy, forwardedFor: "198.51.100.1", proto: "https");
        var second = await SignInAsync(browser, from: Proxy, forwardedFor: "198.51.100.2", proto: "https");
        var again = await SignInAsync(browser, from: Proxy, forwardedFor: "198.51.100.2", proto: "https");

        first.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        second.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        again.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        var cookie = first.Headers.GetValues("Set-Cookie").Single();
        cookie.ShouldStartWith("__Host-feedback_session=");
        cookie.ShouldContain("secure", Case.Insensitive);
        cookie.ShouldContain("path=/", Case.Insensitive);
        cookie.ShouldNotContain("domain=", Case.Insensitive);

        // The cookie opens the API over HTTPS; the plain name is not accepted there.
        var value = cookie.Split(';')[0]["__Host-feedback_session=".Length..];
        (await ReadWithCookieAsync(app, "__Host-feedback_session", value, proto: "https")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ReadWithCookieAsync(app, "feedback_session", value, proto: "https")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("10.0.0.0/24, nginx")]
    [InlineData("10.0.0.0/99")]
    public void A_bad_trusted_proxies_value_stops_the_start_naming_the_variable(string value)
    {
        var settings = new Security.ProxySettings { TrustedProxies = value };

        var result = new Hosting.FailuresValidator<Security.ProxySettings>(s => s.Failures()).Validate(null, settings);

        result.Failed.ShouldBeTrue();
        result.FailureMessage.ShouldContain("TRUSTED_PROXIES");
    }

    private static HttpRequestMessage With(HttpRequestMessage request, string? header, string? value)
    {
        if (header is not null)
        {
            request.Headers.Add(header, value);
        }

        return request;
    }

    private static async Task<HttpClient> SignedInBrowserAsync(FeedbackApp app)
    {
        var browser = app.Client(key: null);
        (await browser.PostAsJsonAsync(new Uri("/dashboard/session", UriKind.Relative), new { key = FeedbackApp.Key }, TestContext.Current.CancellationToken))
            .StatusCode.ShouldBe(HttpStatusCode.NoContent);
        return browser;
    }

    private static Task<HttpResponseMessage> SignInAsync(HttpClient client, string from, string forwardedFor, string proto)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/dashboard/session") { Content = JsonContent.Create(new { key = FeedbackApp.Key }) }.From(from);
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        request.Headers.Add("X-Forwarded-Proto", proto);
        request.Headers.Add("Sec-Fetch-Site", "same-origin");
        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static Task<HttpResponseMessage> ReadWithCookieAsync(FeedbackApp app, string name, string value, string proto)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/feedback").From(Proxy);
        request.Headers.Add("Cookie", $"{name}={value}");
        request.Headers.Add("X-Forwarded-For", "198.51.100.1");
        request.Headers.Add("X-Forwarded-Proto", proto);
        return app.CreateDefaultClient().SendAsync(request, TestContext.Current.CancellationToken);
    }

    private FeedbackApp Start(params (string Key, string Value)[] settings)
    {
        var app = new FeedbackApp(settings.ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal)) { TestServices = TestPeer.Add };
        _apps.Add(app);
        return app;
    }
}
