namespace Feedback.Api.Security;

internal static class SecurityRegistration
{
    /// <summary>API keys and their scopes, the per-key rate limits and which proxies' forwarded headers count.</summary>
    public static IHostApplicationBuilder AddSecurity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddApiKeyAuthentication();
        builder.Services.AddAccessControl();
        builder.Services.AddKeyRateLimits();
        builder.Services.AddTrustedProxies(Hosting.FeatureOptions.Options<ProxySettings>(builder));
        return builder;
    }
}
