using Feedback.Api.Alerts;
using Feedback.Api.Customers;
using Feedback.Api.Dashboard;
using Feedback.Api.Labels;
using Feedback.Api.Operations;
using Feedback.Api.Queries;
using Feedback.Api.Security;
using Feedback.Api.Similarity;
using Feedback.Api.Stats;
using Feedback.Api.Submissions;
using Feedback.Api.Themes;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Hosting;

/// <summary>The middleware every request passes, in order, and the routes of every feature.</summary>
internal static class Pipeline
{
    /// <summary>What every feature relies on: the clock, the API's JSON contracts, and problem details for every error.</summary>
    public static IHostApplicationBuilder AddHttpConventions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        return builder;
    }

    public static WebApplication UseFeedbackMiddleware(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages(context => Problems.Make(
                ProblemTypes.Http(context.HttpContext.Response.StatusCode), "See the API reference for the routes and methods.")
            .ExecuteAsync(context.HttpContext));
        app.UseMiddleware<RequestLogging>();
        app.UseMiddleware<LoadShedding>();
        app.UseAccessControl();
        if (app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value.RateLimitPerMinute > 0)
        {
            // With no limit (0) the middleware would still look up a policy and take a no-limit lease on every request.
            app.UseRateLimiter();
        }

        return app;
    }

    public static WebApplication MapFeedback(this WebApplication app)
    {
        app.MapHealth();
        if (app.Services.GetRequiredService<IOptions<OperationsOptions>>().Value.MetricsEnabled)
        {
            app.MapMetrics();
        }

        app.MapApiDocs();
        app.MapProblemPages();
        app.MapDashboard();
        app.MapGroup("/feedback").RequireAuthorization().RequireRateLimiting(RateLimits.PerKey)
            .MapSubmissions().MapQueries().MapBatch().MapRevisions().MapLabels().MapSimilarity();
        app.MapGroup("/alerts").WithTags("Alerts").RequireAuthorization().RequireRateLimiting(RateLimits.PerKey).MapAlerts();
        app.MapGroup("/themes").WithTags("Themes").RequireAuthorization().RequireRateLimiting(RateLimits.PerKey).MapThemes();
        app.MapGroup("/stats").WithTags("Stats").RequireAuthorization().RequireRateLimiting(RateLimits.PerKey).MapStats();
        app.MapGroup("/customers").WithTags("Customers").RequireAuthorization().RequireRateLimiting(RateLimits.PerKey).MapCustomers();
        return app;
    }
}
