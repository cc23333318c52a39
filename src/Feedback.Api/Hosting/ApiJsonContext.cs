using System.Text.Json;
using System.Text.Json.Serialization;
using Feedback.Api.Operations;
using Feedback.Api.Queries;
using Feedback.Api.Similarity;

namespace Feedback.Api.Hosting;

/// <summary>
/// Compile-time JSON metadata for the response bodies, ahead of the reflection resolver: no reflection
/// warm-up, and POST /feedback's answer is written by generated code (measured in bench/).
/// Web defaults, as the minimal-API serializer uses, so the names and formats are unchanged.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(FeedbackResult))]
[JsonSerializable(typeof(FeedbackDetails))]
[JsonSerializable(typeof(QueryEndpoints.FeedbackPage))]
[JsonSerializable(typeof(HealthEndpoints.HealthReport))]
[JsonSerializable(typeof(SimilarityEndpoints.SimilarPage))]
[JsonSerializable(typeof(Themes.ThemeEndpoints.ThemeList))]
[JsonSerializable(typeof(Themes.ThemeDetails))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
