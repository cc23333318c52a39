using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Shouldly;

namespace Feedback.Api.Tests;

public sealed class AuthenticationTests : IDisposable
{
    private readonly FeedbackApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task A_request_without_a_key_is_401_problem_details_and_stores_nothing()
    {
        var response = await _app.Client(key: null).PostFeedbackAsync(new { text = "The app crashes every time." });

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.JsonAsync()).GetProperty("status").GetInt32().ShouldBe(401);
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(0);
    }

    [Fact]
    public async Task A_wrong_key_gets_the_same_answer_as_a_missing_key()
    {
        var missing = await _app.Client(key: null).PostFeedbackAsync(new { text = "The app crashes every time." });
        var wrong = await _app.Client("test-key-aaaaaaaaaaaaaaaX").PostFeedbackAsync(new { text = "The app crashes every time." });

        wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var a = await missing.JsonAsync();
        var b = await wrong.JsonAsync();
        foreach (var field in new[] { "type", "title", "detail" })
        {
            b.Str(field).ShouldBe(a.Str(field));
        }
    }

    [Fact]
    public async Task Every_configured_key_is_accepted()
    {
        var first = await _app.Client(FeedbackApp.Key).PostFeedbackAsync(new { text = "The app crashes every time." });
        var second = await _app.Client(FeedbackApp.SecondKey).PostFeedbackAsync(new { text = "The app crashes every time." });

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        second.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Reads_need_a_key_too()
    {
        var list = await _app.Client(key: null).GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken);
        var one = await _app.Client(key: null).GetAsync(new Uri("/feedback/1", UriKind.Relative), TestContext.Current.CancellationToken);

        list.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        one.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Health_needs_no_key()
    {
        var response = await _app.Client(key: null).GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var health = await response.JsonAsync();
        health.Str("status").ShouldBe("ok");
        health.Str("ai_provider").ShouldBe("disabled");
        health.Str("ml_fallback").ShouldBe("available");
        health.Str("database").ShouldBe("ok");
    }

    [Fact]
    public async Task An_unknown_route_is_a_404_problem()
    {
        var response = await _app.Client().GetAsync(new Uri("/nothing-here", UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Fact]
    public async Task Two_key_headers_are_refused_like_no_key()
    {
        var client = _app.Client(key: null);
        client.DefaultRequestHeaders.Add("X-API-Key", [FeedbackApp.Key, FeedbackApp.SecondKey]);

        var response = await client.PostFeedbackAsync(new { text = "The app crashes every time." });

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(0);
    }

    [Fact]
    public async Task A_key_header_decides_alone_even_beside_a_valid_session_cookie()
    {
        var browser = _app.Client(key: null);
        (await browser.PostAsJsonAsync(new Uri("/dashboard/session", UriKind.Relative), new { key = FeedbackApp.Key }, TestContext.Current.CancellationToken))
            .StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await browser.GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var withWrongKey = new HttpRequestMessage(HttpMethod.Get, new Uri("/feedback", UriKind.Relative));
        withWrongKey.Headers.Add("X-API-Key", "test-key-aaaaaaaaaaaaaaaX");
        var response = await browser.SendAsync(withWrongKey, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().ShouldBe("ApiKey header=\"X-API-Key\"");
    }

    [Fact]
    public async Task An_accepted_key_needs_no_call_to_the_authentication_service_and_refusals_and_sessions_still_go_through_it()
    {
        var calls = new AuthenticationCalls();
        using var app = new FeedbackApp
        {
            TestServices = services =>
            {
                services.AddSingleton(calls);
                services.Replace(ServiceDescriptor.Scoped<IAuthenticationService>(provider =>
                    new CountingAuthentication(ActivatorUtilities.CreateInstance<AuthenticationService>(provider), calls)));
            },
        };

        (await app.Client().PostFeedbackAsync(new { text = "The app crashes every time." })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await app.Client().GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (calls.Authenticate, calls.Challenge, calls.Forbid).ShouldBe((0, 0, 0));

        (await app.Client(key: null).PostFeedbackAsync(new { text = "The app crashes every time." })).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        // The default scheme's challenge, forwarded by it to the API key scheme: two calls, neither an authentication.
        calls.Challenge.ShouldBeGreaterThan(0);
        (calls.Authenticate, calls.Forbid).ShouldBe((0, 0));

        var browser = app.Client(key: null);
        (await browser.PostAsJsonAsync(new Uri("/dashboard/session", UriKind.Relative), new { key = FeedbackApp.Key }, TestContext.Current.CancellationToken))
            .StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await browser.GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
        calls.Authenticate.ShouldBe(1);
    }

    private sealed class AuthenticationCalls
    {
        public int Authenticate;
        public int Challenge;
        public int Forbid;
    }

    /// <summary>The framework's authentication service, counting what it is asked to do.</summary>
    private sealed class CountingAuthentication(IAuthenticationService inner, AuthenticationCalls calls) : IAuthenticationService
    {
        public Task<AuthenticateResult> AuthenticateAsync(HttpContext context, string? scheme)
        {
            Interlocked.Increment(ref calls.Authenticate);
            return inner.AuthenticateAsync(context, scheme);
        }

        public Task ChallengeAsync(HttpContext context, string? scheme, AuthenticationProperties? properties)
        {
            Interlocked.Increment(ref calls.Challenge);
            return inner.ChallengeAsync(context, scheme, properties);
        }

        public Task ForbidAsync(HttpContext context, string? scheme, AuthenticationProperties? properties)
        {
            Interlocked.Increment(ref calls.Forbid);
            return inner.ForbidAsync(context, scheme, properties);
        }

        public Task SignInAsync(HttpContext context, string? scheme, ClaimsPrincipal principal, AuthenticationProperties? properties) =>
            inner.SignInAsync(context, scheme, principal, properties);

        public Task SignOutAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) =>
            inner.SignOutAsync(context, scheme, properties);
    }
}
