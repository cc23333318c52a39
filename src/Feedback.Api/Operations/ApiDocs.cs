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
                foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
                {
                    tag.Description ??= tag.Name is { } name && TagDescriptions.TryGetValue(name, out var description) ? description : null;
                }

                AddOrchestratorHealth(document);

                // Relative: the service that serves the document (or, for the committed copy, the one a client points at).
                document.Servers = [new OpenApiServer { Url = "/", Description = "The service this document came from" }];
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, cancellationToken) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, context.Document)] = [] });
                    AddProblem(operation, "401", "Missing or wrong X-API-Key (the same body for both).");
                    AddProblem(operation, "403", "The key does not have the scope this operation needs (ingest, read or admin).");
                }
                else
                {
                    // Said outright: an empty requirement is "no key needed", where a missing one would leave it open.
                    operation.Security = [new OpenApiSecurityRequirement()];
                }

                if (metadata.OfType<EnableRateLimitingAttribute>().Any())
                {
                    AddProblem(operation, "429", "This key is over its rate limit; see Retry-After.");
                }

                // These handlers read the query string (and POST /feedback its body) by hand, so nothing describes them otherwise.
                var topics = context.ApplicationServices.GetRequiredService<Analysis.Taxonomy>().Topics.Select(t => t.Name).ToArray();
                switch (operation.OperationId)
                {
                    case "SubmitFeedback":
                        DescribeSubmission(operation);
                        break;
                    case "SubmitFeedbackBatch":
                        SetRequestExample(operation, """
                            {"items": [{"text": "Checkout fails with error 500 since this morning.", "source": "chat", "idempotency_key": "chat-8812"},
                                       {"text": "Love the new dark mode!", "source": "app_store"}]}
                            """);
                        break;
                    case "ListFeedback":
                        Parameter(operation, "sentiment", Enumeration(Sentiments), "Only messages with this sentiment.");
                        Parameter(operation, "topic", Enumeration(topics), "Only messages with this topic (the configured ones).");
                        Parameter(operation, "alert", new OpenApiSchema { Type = JsonSchemaType.Boolean }, "Only messages that did (true) or did not (false) raise an alert.");
                        Parameter(operation, "from", Time(), "Messages created at or after this time (ISO 8601, UTC when no offset).");
                        Parameter(operation, "to", Time(), "Messages created before this time (ISO 8601).");
                        Parameter(operation, "q", new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = SearchTerms.MaxLength }, SearchTerms.Rule);
                        Parameter(operation, "similar_to", new OpenApiSchema { Type = JsonSchemaType.String },
                            $"Rank by similarity in meaning to this text instead of by time (the other filters apply to the closest {Similarity.SimilarityEndpoints.FilteredCandidates}); no cursor.");
                        Parameter(operation, "limit", Integer(1, QueryEndpoints.MaxLimit, QueryEndpoints.DefaultLimit), "Messages per page.");
                        Parameter(operation, "cursor", new OpenApiSchema { Type = JsonSchemaType.String }, "The next_cursor of the previous page.");
                        AddProblem(operation, "400", "A query parameter is not valid (q too long or without a word, among others); see errors.");
                        AddProblem(operation, "503", "The search took longer than SEARCH_TIMEOUT_MS and was stopped, or similar_to needs the encoder, which is not ready.");

                        // The handler answers one of two pages (by time, or with similar_to by similarity: both have items), so anyOf,
                        // which generated clients read into both; the generator
                        // would describe only the last type of its result union.
                        var page = await context.GetOrCreateSchemaAsync(typeof(QueryEndpoints.FeedbackPage), null, cancellationToken);
                        context.Document!.AddComponent(nameof(QueryEndpoints.FeedbackPage), page);
                        operation.Responses!["200"].Content!["application/json"].Schema = new OpenApiSchema
                        {
                            AnyOf =
                            [
                                new OpenApiSchemaReference(nameof(QueryEndpoints.FeedbackPage), context.Document),
                                new OpenApiSchemaReference(nameof(Similarity.SimilarityEndpoints.SimilarPage), context.Document),
                            ],
                        };
                        break;
                    case "GetFeedback":
                    case "ListFeedbackRevisions":
                        AddProblem(operation, "404", "There is no feedback with this id.");
                        break;
                    case "SimilarFeedback":
                        Parameter(operation, "limit", Integer(1, Similarity.SimilarityEndpoints.MaxLimit, Similarity.SimilarityEndpoints.DefaultLimit), "How many similar messages.");
                        AddProblem(operation, "400", "The limit is not valid; see errors.");
                        AddProblem(operation, "404", "There is no feedback with this id.");
                        AddProblem(operation, "409", "The message was stored without a sentence vector; ./run.sh reindex gives it one.");
                        break;
                    case "LabelFeedback":
                        AddProblem(operation, "400", "A field is missing, not a string, or not a known sentiment or topic; see errors.");
                        AddProblem(operation, "404", "There is no feedback with this id.");
                        SetRequestExample(operation, """{"sentiment": "negative", "topic": "billing"}""");
                        break;
                    case "ListAlerts":
                        Parameter(operation, "state", Enumeration("open", "resolved"), "Only groups in this state (default: both).");
                        Parameter(operation, "limit", Integer(1, QueryEndpoints.MaxLimit, QueryEndpoints.DefaultLimit), "Groups per answer, newest first.");
                        AddProblem(operation, "400", "state or limit is not valid; see errors.");
                        break;
                    case "ResolveAlert":
                        AddProblem(operation, "404", "There is no alert group with this id.");
                        AddProblem(operation, "409", "The group is in a state that cannot be resolved; resolving a resolved group again answers 200.");
                        break;
                    case "RetryAlertDeliveries":
                        AddProblem(operation, "404", "There is no alert group with this id.");
                        AddProblem(operation, "409", "None of the group's deliveries failed: there is nothing to send again.");
                        break;
                    case "ListThemes":
                        ThemeWindow(operation);
                        Parameter(operation, "sentiment", Enumeration(Sentiments), "Only themes' messages with this sentiment.");
                        Parameter(operation, "topic", Enumeration(topics), "Only themes' messages with this topic.");
                        Parameter(operation, "min_size", Integer(1, 1_000_000, Themes.ThemeEndpoints.DefaultMinSize), "Leave out themes with fewer messages in the window.");
                        Parameter(operation, "limit", Integer(1, Themes.ThemeEndpoints.MaxLimit, Themes.ThemeEndpoints.DefaultLimit), "At most this many themes, largest first.");
                        break;
                    case "GetTheme":
                        ThemeWindow(operation);
                        Parameter(operation, "limit", Integer(1, Themes.ThemeEndpoints.MaxMemberLimit, Themes.ThemeEndpoints.DefaultMemberLimit), "Message ids per page, newest first.");
                        Parameter(operation, "cursor", new OpenApiSchema { Type = JsonSchemaType.String }, "The next_cursor of the previous page.");
                        break;
                    case "GetStats":
                        Parameter(operation, "from", Time(), "Widened to the start of its bucket (default: 30 days, or 48 hours by hour, before to).");
                        Parameter(operation, "to", Time(), "Exclusive, widened to the end of its bucket (default: now).");
                        Parameter(operation, "bucket", Enumeration("day", "hour"), "The width of each time bucket (default day).");
                        AddProblem(operation, "400", "A query parameter is not valid; see errors.");
                        break;
                    case "DashboardSignIn":
                        SetRequestExample(operation, """{"key": "the read key you were given"}""");
                        break;
                }

                foreach (var (status, response) in operation.Responses ?? [])
                {
                    if (response.Content?.TryGetValue("application/problem+json", out var media) == true && media.Example is null)
                    {
                        media.Example = ProblemExample(status);
                    }
                }
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
             "language": "en", "prompt_version": null, "model": "deep-6", "status": "final", "warnings": []}
            """);
        SetExample(operation, "422", """
            {"type": "/problems/validation", "title": "The request is not valid", "status": 422,
             "detail": "One or more fields are not valid; see errors.", "errors": {"text": ["Must not be empty or only white space."]}}
            """);
    }

    private static readonly string[] Sentiments = ["positive", "negative", "neutral", "mixed"];

    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Feedback"] = "Post messages (one, or a batch of up to 100) and read them back with their sentiment, topic, confidence and alert.",
        ["Labels"] = "A person's sentiment and topic for a message, kept beside the model's answer.",
        ["Similarity"] = "Stored messages closest in meaning to a message or a text.",
        ["Themes"] = "What customers are talking about in a window, found without an LLM.",
        ["Alerts"] = "Alert groups, their deliveries per channel, resolving and retrying them.",
        ["Stats"] = "Counts per sentiment, topic and time bucket, with the LLM's share and spend.",
        ["Customers"] = "A customer's right to erasure: all of one customer's messages and what was derived from them.",
        ["Health"] = "Whether the service can classify and store; liveness and readiness for orchestrators.",
        ["Dashboard"] = "The routes the dashboard page uses: its session cookie, open alerts and live updates.",
    };

    /// <summary>
    /// /health/live and /health/ready are ASP.NET Core health-check endpoints, which API Explorer does not see; they are
    /// described here so that clients and orchestrator manifests can be generated from the document too.
    /// </summary>
    private static void AddOrchestratorHealth(OpenApiDocument document)
    {
        document.Paths ??= [];
        var body = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string>(StringComparer.Ordinal) { "status", "checks" },
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("healthy"), JsonValue.Create("degraded"), JsonValue.Create("unhealthy")] },
                ["checks"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.String },
                    Description = "Each check's name and status.",
                },
            },
        };
        foreach (var (path, id, summary, unhealthy) in new[]
        {
            ("/health/live", "HealthLive", "Liveness: 200 while the process answers. Restart it when this fails.", (string?)null),
            ("/health/ready", "HealthReady", "Readiness: 200 only while the store takes writes and holds every migration.", "The store cannot take writes or misses a migration: send this instance no traffic."),
        })
        {
            var responses = new OpenApiResponses
            {
                ["200"] = new OpenApiResponse
                {
                    Description = "Healthy: the body lists each check.",
                    Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                    {
                        ["application/json"] = new() { Schema = body, Example = JsonNode.Parse("""{"status": "healthy", "checks": {}}""") },
                    },
                },
            };
            if (unhealthy is not null)
            {
                responses["503"] = new OpenApiResponse
                {
                    Description = unhealthy,
                    Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                    {
                        ["application/json"] = new()
                        {
                            Schema = body,
                            Example = JsonNode.Parse("""{"status": "unhealthy", "checks": {"store_writable": "unhealthy", "migrations_applied": "healthy"}}"""),
                        },
                    },
                };
            }

            var operation = new OpenApiOperation { OperationId = id, Summary = summary, Responses = responses, Security = [new OpenApiSecurityRequirement()] };
            operation.Tags = new HashSet<OpenApiTagReference> { new("Health", document) };
            document.Paths[path] = new OpenApiPathItem { Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = operation } };
        }
    }

    /// <summary>A query parameter, typed; it replaces one the binding described already (as a bare string).</summary>
    private static void Parameter(OpenApiOperation operation, string name, OpenApiSchema schema, string description)
    {
        operation.Parameters ??= [];
        foreach (var bound in operation.Parameters.Where(p => p.Name == name && p.In == ParameterLocation.Query).ToList())
        {
            operation.Parameters.Remove(bound);
        }

        operation.Parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Query, Description = description, Schema = schema });
    }

    private static void ThemeWindow(OpenApiOperation operation)
    {
        Parameter(operation, "from", Time(), "The window's start (default: 7 days before to).");
        Parameter(operation, "to", Time(), "The window's end, exclusive (default: now).");
        AddProblem(operation, "400", "A query parameter is not valid; see errors.");
        AddProblem(operation, "503", "Themes are turned off on this instance (THEMES_ENABLED=false).");
    }

    private static OpenApiSchema Enumeration(params string[] values) =>
        new() { Type = JsonSchemaType.String, Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))] };

    private static OpenApiSchema Integer(int minimum, int maximum, int otherwise) => new()
    {
        Type = JsonSchemaType.Integer,
        Format = "int32",
        Minimum = minimum.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Maximum = maximum.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Default = JsonValue.Create(otherwise),
    };

    private static OpenApiSchema Time() => new() { Type = JsonSchemaType.String, Format = "date-time" };

    /// <summary>An example body for a problem response: the type the API sends with that status, from the catalogue.</summary>
    private static JsonNode ProblemExample(string status)
    {
        var code = int.Parse(status, System.Globalization.CultureInfo.InvariantCulture);
        // The catalogue lists the usual type of each status first (forbidden before cross-origin, and so on).
        var type = ProblemTypes.All.Values.FirstOrDefault(t => t.Status == code) ?? ProblemTypes.Http(code);
        return new JsonObject
        {
            ["type"] = type.Uri,
            ["title"] = type.Title,
            ["status"] = code,
            ["detail"] = type.Meaning,
        };
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
