using System.Text.Json.Nodes;
using Feedback.Api.Security;
using Microsoft.AspNetCore.Authorization;
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
                }

                if (operation.OperationId == "SubmitFeedback")
                {
                    DescribeSubmission(operation);
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

    /// <summary>POST /feedback reads its body by hand (for exact status codes), so its schema and examples are given here.</summary>
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
             "language": "en", "prompt_version": null, "model": "local-1", "status": "final", "warnings": []}
            """);
        SetExample(operation, "422", """
            {"type": "/problems/validation", "title": "The request is not valid", "status": 422,
             "detail": "One or more fields are not valid; see errors.", "errors": {"text": ["Must not be empty or only white space."]}}
            """);
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
