using System.Text.Json.Serialization;

namespace Feedback.Bench.Echo;

internal sealed record EchoBody([property: JsonPropertyName("text")] string Text);

[JsonSerializable(typeof(EchoBody))]
internal sealed partial class EchoJson : JsonSerializerContext;
