using System.Text.Json.Nodes;
using Feedback.Api.Queries;
using Feedback.Api.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Feedback.Api.Operations;

/// <summary>
/// The OpenAPI document at /openapi/v1.json and its browsable reference at /docs (Scalar, served from the
/// package itself: no CDN). Both are public; every operation that needs a key says so through the X-API-Key scheme.
/// </summary>
internal static class ApiDocs
{
    private const string SchemeId = ApiKeyAuthenticationHandler.SchemeName;

    public static IServiceCollection AddApiDocs(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Feedback API";
                document.Info.Description =
                    "Customer-feedback analysis: sentiment, topic, confidence and alerts for each message. " +
                    "Send a key in the X-API-Key header; errors are RFC 9457 problem details.";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
                document.Components.SecuritySchemes[SchemeId] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    Name = ApiKeyAuthenticationHandler.HeaderName,
                    In = ParameterLocation.Header,
                    Description = "One of the keys in API_KEY. A missing or wrong key is a 401 with the same body.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, context.Document)] = [] });
                    AddProblem(operation, "401", "Missing or wrong X-API-Key (the same body for both).");
                    AddProblem(operation, "403", "The key does not have the scope this operation needs (ingest, read or admin).");
                }

                if (metadata.OfType<EnableRateLimitingAttribute>().Any())
                {
                    AddProblem(operation, "429", "This key is over its rate limit; see Retry-After.");
                }

                // These handlers read the query string (and POST /feedback its body) by hand, so nothing describes them otherwise.
                switch (operation.OperationId)
                {
                    case "SubmitFeedback":
                        DescribeSubmission(operation);
                        break;
                    case "ListFeedback":
                        AddParameter(operation, ParameterLocation.Query, "sentiment", "positive, negative, neutral or mixed.");
                        AddParameter(operation, ParameterLocation.Query, "topic", $"One of the configured topics: {string.Join(", ", context.ApplicationServices.GetRequiredService<Analysis.Taxonomy>().Topics)}.");
                        AddParameter(operation, ParameterLocation.Query, "alert", "true or false.");
                        AddParameter(operation, ParameterLocation.Query, "from", "ISO 8601; messages created at or after it.");
                        AddParameter(operation, ParameterLocation.Query, "to", "ISO 8601; messages created before it.");
                        AddParameter(operation, ParameterLocation.Query, "q", SearchTerms.Rule);
                        AddParameter(operation, ParameterLocation.Query, "limit", $"1 to {QueryEndpoints.MaxLimit} (default {QueryEndpoints.DefaultLimit}).");
                        AddParameter(operation, ParameterLocation.Query, "cursor", "The next_cursor of the previous page.");
                        AddProblem(operation, "400", "A query parameter is not valid (q too long or without a word, among others); see errors.");
                        AddProblem(operation, "503", "The search took longer than SEARCH_TIMEOUT_MS and was stopped; narrow it.");
                        break;
                    case "GetFeedback":
                        AddProblem(operation, "404", "There is no feedback with this id.");
                        break;
                    case "LabelFeedback":
                        AddProblem(operation, "400", "A field is missing, not a string, or not a known sentiment or topic; see errors.");
                        AddProblem(operation, "404", "There is no feedback with this id.");
                        SetRequestExample(operation, """{"sentiment": "negative", "topic": "billing"}""");
                        break;
                    case "ResolveAlert":
                        AddProblem(operation, "404", "There is no alert group with this id.");
                        AddProblem(operation, "409", "The group is in a state that cannot be resolved; resolving a resolved group again answers 200.");
                        break;
                    case "RetryAlertDeliveries":
                        AddProblem(operation, "404", "There is no alert group with this id.");
                        AddProblem(operation, "409", "None of the group's deliveries failed: there is nothing to send again.");
                        break;
                    case "GetStats":
                        AddParameter(operation, ParameterLocation.Query, "from", "ISO 8601, widened to the start of its bucket (default: 30 days or 48 hours before to).");
                        AddParameter(operation, ParameterLocation.Query, "to", "ISO 8601, exclusive, widened to the end of its bucket (default: now).");
                        AddParameter(operation, ParameterLocation.Query, "bucket", "hour or day (default day).");
                        break;
                }

                return Task.CompletedTask;
            });
        });

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/docs", options => options
                .WithTitle("Feedback API")
                .WithOpenApiRoutePattern("/openapi/{documentName}.json")
                .AddPreferredSecuritySchemes(SchemeId))
            .AllowAnonymous();
        return app;
    }

    /// <summary>POST /feedback binds its body by hand (for exact status codes), so its schema is given here; the types give the rest.</summary>
    private static void DescribeSubmission(OpenApiOperation operation)
    {
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "Only text is required. Over 5,000 characters: stored whole, analysed on the first 5,000. Body at most 64 KiB.",
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
            {
                ["application/json"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string>(StringComparer.Ordinal) { "text" },
                        Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
                        {
                            ["text"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The customer's message." },
                            ["source"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, MaxLength = 100 },
                            ["customer_id"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, MaxLength = 200 },
                            ["metadata"] = new OpenApiSchema { Type = JsonSchemaType.Object | JsonSchemaType.Null, Description = "Stored and returned as sent." },
                        },
                    },
                    Example = JsonNode.Parse("""
                        {"text": "The app crashes every time I export a report. I lost an hour of work.",
                         "source": "email", "customer_id": "c-42", "metadata": {"plan": "pro"}}
                        """),
                },
            },
        };

        SetExample(operation, "201", """
            {"id": 1, "sentiment": "negative", "topic": "bug", "confidence_score": "high", "alert_triggered": true,
             "processing_method": "ml_fallback", "created_at": "2026-11-24T10:30:00Z", "confidence": 0.91,
             "scores": {"positive": 0.02, "negative": 0.91, "neutral": 0.04, "mixed": 0.03},
             "topics": {"bug": 0.88, "feature_request": 0.01, "billing": 0.02, "performance": 0.04, "ux": 0.02, "general": 0.03},
             "language": "en", "prompt_version": null, "model": "deep-4", "status": "final", "warnings": []}
            """);
        SetExample(operation, "422", """
            {"type": "/problems/validation", "title": "The request is not valid", "status": 422,
             "detail": "One or more fields are not valid; see errors.", "errors": {"text": ["Must not be empty or only white space."]}}
            """);
    }

    private static void AddParameter(OpenApiOperation operation, ParameterLocation location, string name, string description)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = name,
            In = location,
            Description = description,
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        });
    }

    private static void AddProblem(OpenApiOperation operation, string status, string description)
    {
        operation.Responses ??= [];
        operation.Responses.TryAdd(status, new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { ["application/problem+json"] = new() },
        });
    }

    private static void SetRequestExample(OpenApiOperation operation, string json)
    {
        if (operation.RequestBody?.Content is { } content)
        {
            foreach (var media in content.Values)
            {
                media.Example = JsonNode.Parse(json);
            }
        }
    }

    private static void SetExample(OpenApiOperation operation, string status, string json)
    {
        if (operation.Responses?.TryGetValue(status, out var response) == true && response.Content is { } content)
        {
            foreach (var media in content.Values)
            {
                media.Example = JsonNode.Parse(json);
            }
        }
    }
}
