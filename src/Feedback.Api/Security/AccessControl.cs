using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Feedback.Api.Dashboard;
using Feedback.Api.Operations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Feedback.Api.Security;

/// <summary>
/// Authentication and authorization in one middleware, in place of ASP.NET Core's two, with the same answers.
/// The framework's pair resolves an authentication service, a policy-scheme handler and an API-key handler, an
/// authorization service and its handlers for every request, and allocates tasks, tickets, results and
/// dictionaries on the way (bench/RESULTS.md: nearly half of what a POST /feedback allocated). Here a
/// request with an X-API-Key header is judged by the key alone (the same check as
/// <see cref="ApiKeyAuthenticationHandler"/>, with its metrics and log), and the endpoint's policy, combined once
/// per endpoint, is checked against the key's claims when it only asks for an authenticated caller and claims,
/// which is every policy this service has. Everything else keeps the framework's way: the dashboard's session
/// cookie is authenticated by its scheme (a write sent with it only from the dashboard's own origin:
/// <see cref="SameOriginCheck"/>), another kind of policy by <see cref="IPolicyEvaluator"/>, and a refusal
/// is the scheme's own challenge or forbid (401 and 403 problem details).
/// </summary>
internal sealed class AccessControl(
    RequestDelegate next,
    ApiKeyStore keys,
    IAuthorizationPolicyProvider policies,
    FeedbackMetrics metrics,
    RefusedKeyLog refusals)
{
    private readonly ConcurrentDictionary<Endpoint, Task<EndpointAccess>> _access = new();

    public Task InvokeAsync(HttpContext context)
    {
        ApiKey? key = null;
        if (context.Request.Headers.ContainsKey(ApiKeyAuthenticationHandler.HeaderName))
        {
            key = ApiKeyAuthenticationHandler.Identify(context, keys, metrics, refusals, out _);
            if (key is not null)
            {
                context.User = ApiKeyAuthenticationHandler.PrincipalOf(key);
            }
        }
        else if (DashboardSessionProtector.HasCookie(context.Request))
        {
            if (SameOriginCheck.IsUnsafe(context.Request.Method) && !SameOriginCheck.IsSameOrigin(context.Request))
            {
                return SameOriginCheck.RefuseAsync(context);
            }

            return AuthenticateSessionThenAuthorizeAsync(context);
        }

        return AuthorizeAsync(context, key);
    }

    private async Task AuthenticateSessionThenAuthorizeAsync(HttpContext context)
    {
        var result = await context.AuthenticateAsync(DashboardCookieHandler.SchemeName);
        if (result.Succeeded)
        {
            context.User = result.Principal;
        }

        await AuthorizeAsync(context, key: null);
    }

    /// <param name="key">The key the caller was identified by, if any: its principal is always the same, so the decision is kept per key.</param>
    private Task AuthorizeAsync(HttpContext context, ApiKey? key)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            return next(context);
        }

        var access = _access.GetOrAdd(endpoint, static (e, p) => EndpointAccess.CombineAsync(e, p), policies);
        return access.IsCompletedSuccessfully ? Authorize(context, access.Result, key) : AuthorizeLaterAsync(context, access, key);
    }

    private async Task AuthorizeLaterAsync(HttpContext context, Task<EndpointAccess> access, ApiKey? key) => await Authorize(context, await access, key);

    private Task Authorize(HttpContext context, EndpointAccess access, ApiKey? key)
    {
        if (access.Policy is not { } policy)
        {
            return next(context);
        }

        if (!access.OnlyClaims)
        {
            return AuthorizeWithFrameworkAsync(context, policy);
        }

        if (key is not null ? access.Allows(key, context.User) : Satisfies(context.User, policy))
        {
            return next(context);
        }

        // As the framework decides: a caller that is authenticated lacks the scope (403), any other is challenged (401).
        return context.User.Identity?.IsAuthenticated == true ? context.ForbidAsync() : context.ChallengeAsync();
    }

    /// <summary>The checks of <see cref="DenyAnonymousAuthorizationRequirement"/> and <see cref="ClaimsAuthorizationRequirement"/>.</summary>
    private static bool Satisfies(ClaimsPrincipal user, AuthorizationPolicy policy)
    {
        foreach (var requirement in policy.Requirements)
        {
            var met = requirement switch
            {
                DenyAnonymousAuthorizationRequirement => IsAuthenticated(user),
                ClaimsAuthorizationRequirement claims => HasClaim(user, claims),
                _ => false,
            };
            if (!met)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAuthenticated(ClaimsPrincipal user) => user.Identities.Any(identity => identity.IsAuthenticated);

    private static bool HasClaim(ClaimsPrincipal user, ClaimsAuthorizationRequirement requirement) =>
        user.HasClaim(claim => string.Equals(claim.Type, requirement.ClaimType, StringComparison.OrdinalIgnoreCase)
            && (requirement.AllowedValues is null || !requirement.AllowedValues.Any() || requirement.AllowedValues.Contains(claim.Value, StringComparer.Ordinal)));

    /// <summary>What ASP.NET Core's authorization middleware does, for a policy this class does not check itself.</summary>
    private async Task AuthorizeWithFrameworkAsync(HttpContext context, AuthorizationPolicy policy)
    {
        var evaluator = context.RequestServices.GetRequiredService<IPolicyEvaluator>();
        var authentication = await evaluator.AuthenticateAsync(policy, context);
        var authorization = await evaluator.AuthorizeAsync(policy, authentication, context, context);
        var results = context.RequestServices.GetRequiredService<IAuthorizationMiddlewareResultHandler>();
        await results.HandleAsync(next, context, policy, authorization);
    }

    /// <summary>An endpoint's combined policy (null when it needs none) and whether only claims decide it.</summary>
    private sealed record EndpointAccess(AuthorizationPolicy? Policy, bool OnlyClaims)
    {
        private static readonly object Allowed = true;
        private static readonly object Refused = false;

        // Per key, whether its principal satisfies the policy: the claims are walked once per key, not per request.
        // Weak, so a key revoked from API_KEYS_FILE leaves with its entry.
        private readonly ConditionalWeakTable<ApiKey, object> _decisions = [];

        /// <summary>Whether <paramref name="principal"/>, the principal of <paramref name="key"/>, satisfies the (claims-only) policy.</summary>
        public bool Allows(ApiKey key, ClaimsPrincipal principal)
        {
            if (!_decisions.TryGetValue(key, out var decision))
            {
                decision = Policy is null || Satisfies(principal, Policy) ? Allowed : Refused;
                _decisions.AddOrUpdate(key, decision);
            }

            return ReferenceEquals(decision, Allowed);
        }

        public static async Task<EndpointAccess> CombineAsync(Endpoint endpoint, IAuthorizationPolicyProvider policies)
        {
            var metadata = endpoint.Metadata;
            if (metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                return new EndpointAccess(null, OnlyClaims: true);
            }

            var policy = await AuthorizationPolicy.CombineAsync(
                policies, metadata.GetOrderedMetadata<IAuthorizeData>(), metadata.GetOrderedMetadata<AuthorizationPolicy>());
            var onlyClaims = policy is null
                || (policy.AuthenticationSchemes.Count == 0
                    && policy.Requirements.All(r => r is DenyAnonymousAuthorizationRequirement or ClaimsAuthorizationRequirement));
            return new EndpointAccess(policy, onlyClaims);
        }
    }
}

internal static class AccessControlExtensions
{
    /// <summary>
    /// Puts <see cref="AccessControl"/> where UseAuthentication and UseAuthorization would go, and marks both as
    /// placed so the host does not add them in front of the pipeline (it does when authentication services are
    /// registered and the app has not called them; the schemes stay registered for challenges, forbids and the
    /// dashboard's cookie). Endpoints' authorization metadata is honoured here, so the endpoint middleware's check
    /// that an authorization middleware ran is turned off in <see cref="AddAccessControl"/>.
    /// </summary>
    public static IApplicationBuilder UseAccessControl(this IApplicationBuilder app)
    {
        app.Properties["__AuthenticationMiddlewareSet"] = true;
        app.Properties["__AuthorizationMiddlewareSet"] = true;
        return app.UseMiddleware<AccessControl>();
    }

    public static IServiceCollection AddAccessControl(this IServiceCollection services) =>
        services.Configure<RouteOptions>(options => options.SuppressCheckForUnhandledSecurityMetadata = true);
}
