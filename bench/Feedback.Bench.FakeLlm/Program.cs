using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

// A fake OpenAI-compatible server for the load benchmark. POST /v1/chat/completions answers, after
// --delay-ms milliseconds, a chat.completion in the real wire format whose message content is the JSON
// the API asks for. Usage: dotnet Feedback.Bench.FakeLlm.dll --delay-ms 2000 --port 18090
var delay = TimeSpan.FromMilliseconds(Option(args, "--delay-ms", 100));
var port = Option(args, "--port", 18090);

var builder = WebApplication.CreateSlimBuilder();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
builder.WebHost.UseUrls($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var app = builder.Build();
long served = 0;
// Writes the content's quotes as \" like real servers do, not as \u0022.
var relaxed = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

app.MapGet("/", () => "fake llm");
app.MapPost("/v1/chat/completions", async (HttpContext context) =>
{
    var model = "fake-model";
    using (var request = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))
    {
        if (request.RootElement.ValueKind == JsonValueKind.Object
            && request.RootElement.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String)
        {
            model = m.GetString() ?? model;
        }
    }

    await Task.Delay(delay, context.RequestAborted);
    var n = Interlocked.Increment(ref served);

    context.Response.ContentType = "application/json";
    await using var json = new Utf8JsonWriter(context.Response.BodyWriter, relaxed);
    json.WriteStartObject();
    json.WriteString("id", $"chatcmpl-fake-{n.ToString(CultureInfo.InvariantCulture)}");
    json.WriteString("object", "chat.completion");
    json.WriteNumber("created", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    json.WriteString("model", model);
    json.WriteStartArray("choices");
    json.WriteStartObject();
    json.WriteNumber("index", 0);
    json.WriteStartObject("message");
    json.WriteString("role", "assistant");
    json.WriteString("content", """{"sentiment":"negative","topic":"bug","confidence":0.9}""");
    json.WriteEndObject();
    json.WriteString("finish_reason", "stop");
    json.WriteEndObject();
    json.WriteEndArray();
    json.WriteStartObject("usage");
    json.WriteNumber("prompt_tokens", 120);
    json.WriteNumber("completion_tokens", 15);
    json.WriteNumber("total_tokens", 135);
    json.WriteEndObject();
    json.WriteEndObject();
    await json.FlushAsync(context.RequestAborted);
});

await app.RunAsync();

static int Option(string[] args, string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
