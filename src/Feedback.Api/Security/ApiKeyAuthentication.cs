using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Feedback.Api.Operations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Security;

internal sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    FeedbackMetrics metrics,
    RefusedKeyLog refusals) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";
    public const string KeyIdClaim = ApiKey.NameClaim;

    /// <summary>
    /// Each key's principal, built on its first request and handed to every later one instead of a new identity and
    /// claims per request: nothing in this service changes a request's principal (no claims transformation is
    /// registered). Keyed by the <see cref="ApiKey"/> instance, so a key reloaded from API_KEYS_FILE gets a fresh one
    /// and a revoked key's entry goes with it.
    /// </summary>
    private static readonly ConditionalWeakTable<ApiKey, ClaimsPrincipal> Principals = [];

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = Identify(Context, keys, metrics, refusals, out var refused);
        return Task.FromResult(
            key is not null ? AuthenticateResult.Success(new AuthenticationTicket(PrincipalOf(key), SchemeName))
            : refused ? AuthenticateResult.Fail("invalid key")
            : AuthenticateResult.NoResult());
    }

    /// <summary>
    /// The accepted key the request carries, or null when it has no usable key: none, several, empty, or one that is
    /// not accepted (<paramref name="refused"/>: counted and logged, without the key or any part of it). Shared with
    /// <see cref="AccessControl"/>, which runs it for every request without this handler.
    /// </summary>
    public static ApiKey? Identify(HttpContext context, ApiKeyStore keys, FeedbackMetrics metrics, RefusedKeyLog refusals, out bool refused)
    {
        refused = false;
        if (!context.Request.Headers.TryGetValue(HeaderName, out var values) || values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            return null;
        }

        var key = keys.Identify(values[0]!);
        if (key is null)
        {
            metrics.AuthFailed("unknown_key");
            refusals.Refused(context);
            refused = true;
        }

        return key;
    }

    /// <summary>The one principal of a key, made on its first request.</summary>
    public static ClaimsPrincipal PrincipalOf(ApiKey key) => Principals.GetValue(key, static k => k.Principal(SchemeName));

    /// <summary>A known key without the scope: the same body whichever key and route.</summary>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        metrics.AuthFailed("missing_scope");
        LogMissingScope(Logger, Context.User.KeyId(), Request.Method, (Context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)");
        return Problems.Forbidden().ExecuteAsync(Context);
    }

    /// <summary>The same body for a missing and a wrong key: nothing tells which keys exist.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (!Request.Headers.ContainsKey(HeaderName))
        {
            metrics.AuthFailed("missing_key");
        }

        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{HeaderName}\"";
        return Problems.Unauthorized().ExecuteAsync(Context);
    }

    [LoggerMessage(EventId = 4030, Level = LogLevel.Warning, Message = "Key {KeyName} lacks the scope for {Method} {Route}")]
    private static partial void LogMissingScope(ILogger logger, string keyName, string method, string route);
}

internal static class ApiKeyAuthenticationExtensions
{
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<RefusedKeyLog>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Scopes.Ingest, policy => policy.RequireClaim(ApiKey.ScopeClaim, Scopes.Ingest, Scopes.Admin))
            .AddPolicy(Scopes.Read, policy => policy.RequireClaim(ApiKey.ScopeClaim, Scopes.Read, Scopes.Admin))
            .AddPolicy(Scopes.Admin, policy => policy.RequireClaim(ApiKey.ScopeClaim, Scopes.Admin));
        return services;
    }

    public static string KeyId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) ?? "anonymous";
}
