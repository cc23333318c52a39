using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Feedback.Api.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Security;

/// <summary>The accepted keys, held only as SHA-256 digests.</summary>
internal sealed class ApiKeyStore
{
    private readonly byte[][] _digests;

    public ApiKeyStore(IOptions<ServiceSettings> settings)
    {
        _digests = [.. settings.Value.ApiKeys.Select(Digest)];
    }

    /// <summary>
    /// Compares the presented key with every accepted key in constant time, so neither the answer time nor an
    /// early exit tells which keys exist or how much of one matched.
    /// </summary>
    public string? Identify(string presented)
    {
        var digest = Digest(presented);
        string? match = null;
        foreach (var accepted in _digests)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, accepted))
            {
                match = Convert.ToHexStringLower(accepted.AsSpan(0, 6));
            }
        }

        return match;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";
    public const string KeyIdClaim = "key_id";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var keyId = keys.Identify(values[0]!);
        if (keyId is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("invalid key"));
        }

        var identity = new ClaimsIdentity([new Claim(KeyIdClaim, keyId)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <summary>The same body for a missing and a wrong key: nothing tells which keys exist.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{HeaderName}\"";
        return Problems.Unauthorized().ExecuteAsync(Context);
    }
}

internal static class ApiKeyAuthenticationExtensions
{
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyStore>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        return services;
    }

    public static string KeyId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) ?? "anonymous";
}
