using System.ClientModel;
using System.Collections.Concurrent;
using System.ClientModel.Primitives;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Feedback.Analysis.Llm;

/// <summary>Why an LLM call gave no usable answer; every kind falls back to the local classifier.</summary>
public enum LlmFailureKind
{
    Timeout,
    RateLimited,
    ServerError,
    Unreachable,
    InvalidAnswer,
}

public sealed class LlmFailureException(LlmFailureKind kind, string message, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public LlmFailureKind Kind { get; } = kind;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>What the provider billed for the call that failed: tokens of an answer that was rejected, else none.</summary>
    public LlmUsage Usage { get; init; }
}

/// <summary>A validated answer of the model.</summary>
public sealed record LlmAnswer(Sentiment Sentiment, Topic Topic, double Confidence, long InputTokens, long OutputTokens);

/// <summary>
/// Asks an OpenAI-compatible chat model for {"sentiment", "topic", "confidence"} under a JSON schema at
/// temperature 0, and accepts nothing else: a refusal, prose, an unknown label, a missing or extra field
/// or a confidence outside 0..1 is an <see cref="LlmFailureKind.InvalidAnswer"/>.
/// </summary>
/// <param name="time">The clock a Retry-After date is read against; the system's when not given.</param>
public sealed class LlmClassifier(IChatClient client, string model, Taxonomy? taxonomy = null, TimeProvider? time = null)
{
    private readonly TimeProvider time = time ?? TimeProvider.System;
    private readonly Taxonomy taxonomy = taxonomy ?? Taxonomy.BuiltIn;
    private readonly JsonElement schema = SchemaFor(taxonomy ?? Taxonomy.BuiltIn);

    // Each prompt as the taxonomy makes it, once: a taxonomy other than the built-in one rewrites the prompt's text.
    private readonly ConcurrentDictionary<PromptVersion, string> systemPrompts = new(ReferenceEqualityComparer.Instance);

    public string Model { get; } = model;

    /// <summary>The chat client the classifier asks, for the other questions put to the same model (a theme's title).</summary>
    public IChatClient Client => client;

    /// <summary>The topics the model may answer with.</summary>
    public Taxonomy Taxonomy => taxonomy;

    /// <summary>
    /// An OpenAI-compatible client over <paramref name="http"/> with the SDK's own retries off: a retry would spend
    /// the latency budget, and the caller's circuit breaker decides when to stop calling.
    /// </summary>
    /// <summary>The activity source and meter the LLM calls are traced and measured under.</summary>
    public const string TelemetrySource = "Feedback.Llm";

    public static LlmClassifier Create(
        string? baseUrl, string? apiKey, string model, TimeSpan timeout, HttpClient http, Taxonomy? taxonomy = null, TimeProvider? time = null)
    {
        var options = new OpenAIClientOptions
        {
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = timeout,
            Transport = new HttpClientPipelineTransport(http),
        };
        if (!string.IsNullOrWhiteSpace(baseUrl))
        {
            options.Endpoint = new Uri(baseUrl);
        }

        // Local servers (Ollama, vLLM) take any key; the SDK insists on one.
        var key = string.IsNullOrWhiteSpace(apiKey) ? "unused" : apiKey;
        // Spans and metrics under the GenAI conventions (model, tokens, duration); the prompt and the answer stay out of
        // them, since they hold the customer's words.
        var client = new OpenAIClient(new ApiKeyCredential(key), options).GetChatClient(model).AsIChatClient()
            .AsBuilder()
            .UseOpenTelemetry(sourceName: TelemetrySource, configure: telemetry => telemetry.EnableSensitiveData = false)
            .Build();
        return new LlmClassifier(client, model, taxonomy, time);
    }

    /// <summary>The user message: the customer's text, delimited, with the delimiters it contains neutralised.</summary>
    public static string UserMessage(string text) =>
        "<feedback>\n" + text.Replace("<feedback>", "<feedback >", StringComparison.OrdinalIgnoreCase)
            .Replace("</feedback>", "</feedback >", StringComparison.OrdinalIgnoreCase) + "\n</feedback>";

    public async Task<LlmAnswer> ClassifyAsync(string text, PromptVersion prompt, CancellationToken cancellationToken)
    {
        var options = new ChatOptions
        {
            ModelId = Model,
            Temperature = 0,
            MaxOutputTokens = 60,
            ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "feedback_labels", "Sentiment, topic and confidence of one customer message."),
        };
        ChatMessage[] messages = [new(ChatRole.System, systemPrompts.GetOrAdd(prompt, p => p.For(this.taxonomy))), new(ChatRole.User, UserMessage(text))];

        ChatResponse response;
        try
        {
            response = await client.GetResponseAsync(messages, options, cancellationToken);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LlmFailureException(LlmFailureKind.Timeout, "The model did not answer in time.", inner: exception);
        }
        catch (ClientResultException exception)
        {
            throw Classify(exception);
        }
        catch (HttpRequestException exception)
        {
            throw new LlmFailureException(LlmFailureKind.Unreachable, "The model's server could not be reached.", inner: exception);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // A body the client library cannot read as a chat completion (an HTML error page, truncated JSON).
            throw new LlmFailureException(LlmFailureKind.InvalidAnswer, "The model's server sent an unreadable response.", inner: exception);
        }

        // The provider bills an answer whether or not it is usable: a rejected one carries its tokens with the failure.
        var input = response.Usage?.InputTokenCount ?? 0;
        var output = response.Usage?.OutputTokenCount ?? 0;
        try
        {
            return Parse(response.Text, taxonomy) with { InputTokens = input, OutputTokens = output };
        }
        catch (LlmFailureException rejected)
        {
            throw new LlmFailureException(rejected.Kind, rejected.Message, inner: rejected) { Usage = new LlmUsage(1, input, output) };
        }
    }

    /// <summary>Validates the model's text against the schema by hand: the server may not have enforced it.</summary>
    public static LlmAnswer Parse(string? text, Taxonomy? taxonomy = null)
    {
        taxonomy ??= Taxonomy.BuiltIn;
        var json = StripCodeFence(text?.Trim() ?? "");
        if (json.Length == 0)
        {
            throw Invalid("empty answer");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            throw Invalid("not JSON");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("not a JSON object");
            }

            var names = root.EnumerateObject().Select(p => p.Name).ToList();
            if (names.Count != 3 || names.Distinct(StringComparer.Ordinal).Count() != 3)
            {
                throw Invalid("wrong set of fields");
            }

            if (!root.TryGetProperty("sentiment", out var s) || s.ValueKind != JsonValueKind.String || !WireNames.TryParseSentiment(s.GetString(), out var sentiment))
            {
                throw Invalid("unknown sentiment");
            }

            if (!root.TryGetProperty("topic", out var t) || t.ValueKind != JsonValueKind.String || !taxonomy.TryParse(t.GetString(), out var topic))
            {
                throw Invalid("unknown topic");
            }

            if (!root.TryGetProperty("confidence", out var c) || c.ValueKind != JsonValueKind.Number || !c.TryGetDouble(out var confidence)
                || double.IsNaN(confidence) || confidence is < 0 or > 1)
            {
                throw Invalid("confidence is not a number from 0 to 1");
            }

            return new LlmAnswer(sentiment, topic, confidence, 0, 0);
        }
    }

    private static JsonElement SchemaFor(Taxonomy taxonomy)
    {
        var topics = JsonSerializer.Serialize(taxonomy.Topics.Select(t => t.Name));
        return JsonDocument.Parse($$"""
            {
              "type": "object",
              "properties": {
                "sentiment": { "type": "string", "enum": ["positive", "negative", "neutral", "mixed"] },
                "topic": { "type": "string", "enum": {{topics}} },
                "confidence": { "type": "number", "minimum": 0, "maximum": 1 }
              },
              "required": ["sentiment", "topic", "confidence"],
              "additionalProperties": false
            }
            """).RootElement.Clone();
    }

    private static string StripCodeFence(string text)
    {
        if (!text.StartsWith("```", StringComparison.Ordinal))
        {
            return text;
        }

        var firstNewLine = text.IndexOf('\n', StringComparison.Ordinal);
        var lastFence = text.LastIndexOf("```", StringComparison.Ordinal);
        return firstNewLine > 0 && lastFence > firstNewLine ? text[(firstNewLine + 1)..lastFence].Trim() : text;
    }

    private static LlmFailureException Invalid(string why) =>
        new(LlmFailureKind.InvalidAnswer, $"The model's answer was rejected: {why}.");

    private LlmFailureException Classify(ClientResultException exception)
    {
        var status = exception.Status;
        if (status == (int)HttpStatusCode.TooManyRequests)
        {
            return new LlmFailureException(LlmFailureKind.RateLimited, "The model's server is rate limiting.", RetryAfter(exception), exception);
        }

        if (status >= 500)
        {
            return new LlmFailureException(LlmFailureKind.ServerError, $"The model's server answered {status}.", inner: exception);
        }

        if (status == 0)
        {
            return new LlmFailureException(LlmFailureKind.Unreachable, "The model's server could not be reached.", inner: exception);
        }

        return new LlmFailureException(LlmFailureKind.InvalidAnswer, $"The model's server refused the request ({status}).", inner: exception);
    }

    private TimeSpan? RetryAfter(ClientResultException exception)
    {
        var response = exception.GetRawResponse();
        if (response is null || !response.Headers.TryGetValue("Retry-After", out var value) || value is null)
        {
            return null;
        }

        if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(Math.Min(seconds, 3600));
        }

        return DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? TimeSpan.FromSeconds(Math.Clamp((at - time.GetUtcNow()).TotalSeconds, 0, 3600))
            : null;
    }
}
