using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Feedback.Api.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Dashboard;

/// <summary>
/// The dashboard's login: the key is entered once and kept in an HttpOnly, SameSite=Strict session cookie,
/// so the page's own script never holds it. The cookie carries the key encrypted and signed by ASP.NET Data
/// Protection and is checked against the accepted keys on every request, so removing a key from API_KEY ends
/// its sessions too. Data Protection's keys live in the store (<see cref="StoredKeyRing"/>): any instance on the same
/// database accepts the cookie, and a restart keeps the session.
/// </summary>
internal sealed class DashboardCookieHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    DashboardSessionProtector protector) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "DashboardCookie";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Cookies.TryGetValue(DashboardSessionProtector.CookieNameFor(Request), out var cookie) || string.IsNullOrEmpty(cookie))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var apiKey = protector.Unprotect(cookie) is { } key ? keys.Identify(key) : null;
        if (apiKey is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("invalid session"));
        }

        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(apiKey.Principal(SchemeName), SchemeName)));
    }
}

/// <summary>Seals a key into the session cookie and opens it again.</summary>
internal sealed class DashboardSessionProtector(IDataProtectionProvider provider)
{
    public const string CookieName = "feedback_session";

    /// <summary>
    /// The name over HTTPS (directly or as a trusted proxy says): a browser takes a __Host- cookie only when it is
    /// Secure, for Path=/ and without Domain, so neither plain HTTP nor a sibling subdomain can plant or replace it.
    /// </summary>
    public const string SecureCookieName = "__Host-" + CookieName;

    public static string CookieNameFor(HttpRequest request) => request.IsHttps ? SecureCookieName : CookieName;

    public static bool HasCookie(HttpRequest request) => request.Cookies.ContainsKey(CookieNameFor(request));

    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private readonly ITimeLimitedDataProtector _protector =
        provider.CreateProtector("Feedback.Dashboard.Session").ToTimeLimitedDataProtector();

    public string Protect(string key) => _protector.Protect(key, Lifetime);

    public string? Unprotect(string cookie)
    {
        try
        {
            return _protector.Unprotect(cookie);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }
}

internal static class DashboardSession
{
    public const string DataProtectionApplicationName = "feedback";

    /// <summary>
    /// Adds the cookie as a second way in. A policy scheme becomes the default: a request with an X-API-Key
    /// header is judged by the key alone, one without by its session cookie; a challenge always answers as the
    /// API key scheme does (401 problem details).
    /// </summary>
    public static IServiceCollection AddDashboardSession(this IServiceCollection services)
    {
        const string selector = "ApiKeyOrDashboardCookie";
        // One application name, so every instance (whatever its content root) derives the same purpose keys from the shared ring.
        services.AddDataProtection().SetApplicationName(DataProtectionApplicationName);
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider => new ConfigureOptions<KeyManagementOptions>(
            options => options.XmlRepository = new StoredKeyRing(provider.GetRequiredService<IServiceScopeFactory>())));
        services.AddSingleton<DashboardSessionProtector>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, DashboardCookieHandler>(DashboardCookieHandler.SchemeName, null)
            .AddPolicyScheme(selector, null, policy =>
            {
                policy.ForwardDefaultSelector = context =>
                    !context.Request.Headers.ContainsKey(ApiKeyAuthenticationHandler.HeaderName)
                    && DashboardSessionProtector.HasCookie(context.Request)
                        ? DashboardCookieHandler.SchemeName
                        : ApiKeyAuthenticationHandler.SchemeName;
                policy.ForwardChallenge = ApiKeyAuthenticationHandler.SchemeName;
                policy.ForwardForbid = ApiKeyAuthenticationHandler.SchemeName;
            });
        services.Configure<AuthenticationOptions>(options => options.DefaultScheme = selector);

        // Data Protection's hosted service would load (and on a new store create) the key ring at every start, mapping
        // System.Private.Xml and querying the store on a server whose dashboard may never be opened.
        // Without it the ring is loaded on the first sign-in or cookie. Removed after AddAuthentication, which would
        // otherwise register it again.
        var keyRingLoader = services.FirstOrDefault(descriptor => descriptor.ServiceType == typeof(IHostedService) && !descriptor.IsKeyedService
            && descriptor.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService");
        if (keyRingLoader is not null)
        {
            services.Remove(keyRingLoader);
        }

        return services;
    }

    public static RouteGroupBuilder MapDashboardSession(this RouteGroupBuilder group)
    {
        group.MapPost("/session", SignInAsync)
            .WithName("DashboardSignIn")
            .WithSummary("Exchanges an API key for an HttpOnly session cookie used by the dashboard. Limited per client address.")
            .Accepts<SignInRequest>("application/json")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .AllowAnonymous()
            .DisableAntiforgery();
        // Anonymous and always 200, so the page can ask without the browser logging a failed request.
        group.MapGet("/session", (HttpContext context, Analysis.Taxonomy taxonomy) => TypedResults.Ok(new SessionView(
                context.User.Identity?.IsAuthenticated == true,
                [.. context.User.FindAll(ApiKey.ScopeClaim).Select(c => c.Value).Order(StringComparer.Ordinal)],
                [.. taxonomy.Topics.Select(t => t.Name)])))
            .WithName("DashboardSession")
            .WithSummary("Whether this browser's session cookie (or key) is valid, its key's scopes and the configured topics.")
            .AllowAnonymous();
        group.MapDelete("/session", SignOut)
            .WithName("DashboardSignOut")
            .WithSummary("Ends the dashboard session.")
            .AllowAnonymous();
        return group;
    }

    /// <summary>
    /// The body is read here, not bound, so it is refused past <see cref="DashboardSettings.MaxSignInBytes"/> whatever
    /// Content-Length says (or leaves out): an anonymous caller cannot make the server hold a large or endless upload.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> SignInAsync(
        HttpContext context, ApiKeyStore keys, DashboardSessionProtector protector, SignInGuard guard,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        if (guard.Refusal(context) is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Make(
                ProblemTypes.RateLimited, $"Retry after {seconds} s.", title: "Too many sign-in attempts from this address");
        }

        if (context.Request.ContentLength > DashboardSettings.MaxSignInBytes
            || await ReadSmallBodyAsync(context.Request, cancellationToken) is not { } body)
        {
            return Problems.TooLarge(DashboardSettings.MaxSignInBytes);
        }

        SignInRequest? request;
        try
        {
            request = body.Length == 0 ? null : JsonSerializer.Deserialize<SignInRequest>(body, json.Value.SerializerOptions);
        }
        catch (JsonException)
        {
            request = null;
        }

        if (request?.Key is not { Length: > 0 and <= 1024 } key || keys.Identify(key) is null)
        {
            guard.Failed();
            return Problems.Unauthorized();
        }

        context.Response.Cookies.Append(DashboardSessionProtector.CookieNameFor(context.Request), protector.Protect(key), CookieOptions(context));
        return TypedResults.NoContent();
    }

    /// <summary>The whole body, or null once it grows past the limit.</summary>
    private static async Task<byte[]?> ReadSmallBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = new byte[DashboardSettings.MaxSignInBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        return length > DashboardSettings.MaxSignInBytes ? null : buffer[..length];
    }

    private static NoContent SignOut(HttpContext context)
    {
        context.Response.Cookies.Delete(DashboardSessionProtector.CookieNameFor(context.Request), CookieOptions(context));
        return TypedResults.NoContent();
    }

    /// <summary>
    /// A session cookie (no Expires): it goes when the browser does, and the sealed value expires on its own. Secure
    /// whenever the request came over HTTPS, which behind a proxy only TRUSTED_PROXIES may say.
    /// </summary>
    private static CookieOptions CookieOptions(HttpContext context) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = "/",
        IsEssential = true,
    };

    internal sealed record SignInRequest([property: JsonPropertyName("key")] string? Key);

    /// <summary>The scopes let the page offer only what the key may do (labelling needs admin) instead of a button that fails.</summary>
    internal sealed record SessionView(
        [property: JsonPropertyName("signed_in")] bool SignedIn,
        [property: JsonPropertyName("scopes")] IReadOnlyList<string> Scopes,
        [property: JsonPropertyName("topics")] IReadOnlyList<string> Topics);
}
