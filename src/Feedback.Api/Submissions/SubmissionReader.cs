using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Feedback.Api.Submissions;

/// <summary>A parsed POST /feedback body.</summary>
internal sealed record Submission(string Text, string? Source, string? CustomerId, string? Metadata, byte[] Body)
{
    /// <summary>SHA-256 of the body, computed only for a request with an Idempotency-Key: it tells a replay from a reused key.</summary>
    public string BodyHash => Convert.ToHexStringLower(SHA256.HashData(Body));
}

/// <summary>
/// Reads and checks a POST /feedback body by hand rather than through model binding, so that each way a
/// body can be wrong gets the status the contract names: 415, 413, 400 (not JSON, wrong types) and 422.
/// </summary>
internal static class SubmissionReader
{
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxSourceLength = 100;
    public const int MaxCustomerIdLength = 200;
    private const int MaxDepth = 32;
    private const string UnpairedSurrogate = "The body contains an escaped unpaired surrogate (such as \\ud800), which is not text.";

    // A name twice in one object is refused: which of the two values counts differs from one JSON reader to the next,
    // so a proxy or a log that read the first could see another text than the one stored.
    private static readonly JsonDocumentOptions Strict = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };

    /// <summary>The same but for repeated names: only to tell that error from others.</summary>
    private static readonly JsonDocumentOptions Lenient = Strict with { AllowDuplicateProperties = true };

    public static async Task<(Submission? Submission, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJson(request.ContentType))
        {
            return (null, Problems.UnsupportedMediaType());
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, Problems.TooLarge(MaxBodyBytes));
        }

        var body = await ReadBodyAsync(request.BodyReader, MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return (null, Problems.TooLarge(MaxBodyBytes));
        }

        return Parse(body);
    }

    internal static (Submission? Submission, ProblemHttpResult? Problem) Parse(byte[] body)
    {
        // The JSON reader checks UTF-8 only where it transcodes, so an invalid byte inside a string would
        // surface later as an exception, not as a 400.
        if (!Utf8.IsValid(body))
        {
            return (null, Problems.InvalidJson("The body is not valid UTF-8."));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, Strict);
        }
        catch (JsonException exception)
        {
            // The reader's message names the position, never the content.
            return (null, Problems.InvalidJson(
                HasDuplicateName(body)
                    ? $"The body has the same property name twice in one object (line {exception.LineNumber + 1}); each name may appear once."
                    : IsTooDeep(body)
                        ? $"The body nests objects or arrays more than {MaxDepth} levels deep (line {exception.LineNumber + 1}); {MaxDepth} is the limit."
                        : $"The body could not be parsed as JSON (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1})."));
        }
        catch (InvalidOperationException)
        {
            // Comparing names unescapes them, so a name with an escaped unpaired surrogate fails here, as values do below.
            return (null, Problems.InvalidJson(UnpairedSurrogate));
        }

        using (document)
        {
            try
            {
                return Read(document.RootElement, body);
            }
            catch (InvalidOperationException)
            {
                // An escaped unpaired surrogate is valid JSON syntax but not text: the reader throws when it
                // unescapes one, in a property name or in a value.
                return (null, Problems.InvalidJson(UnpairedSurrogate));
            }
        }
    }

    /// <summary>Whether a body refused by the parser is well-formed JSON but for a repeated name (asked only on that error path).</summary>
    private static bool HasDuplicateName(byte[] body)
    {
        try
        {
            using var lenient = JsonDocument.Parse(body, Lenient);
            return true;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether a body refused by the parser is well-formed JSON but for its depth (asked only on that error path). No body
    /// within the size limit can nest deeper than it has bytes, so that bound lets the reader check the syntax alone.
    /// </summary>
    private static bool IsTooDeep(byte[] body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = Math.Max(body.Length, MaxDepth + 1) });
        var deepest = 0;
        try
        {
            while (reader.Read())
            {
                deepest = Math.Max(deepest, reader.CurrentDepth);
            }

            return deepest >= MaxDepth;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static (Submission? Submission, ProblemHttpResult? Problem) Read(JsonElement root, byte[] body)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, Problems.WrongTypes(new Dictionary<string, string[]>(StringComparer.Ordinal) { ["$"] = ["The body must be a JSON object."] }));
        }

        // Made only when there is something to report: a valid body (nearly every request) needs neither dictionary.
        Dictionary<string, string[]>? typeErrors = null;
        var text = ReadString(root, "text", ref typeErrors);
        var source = ReadString(root, "source", ref typeErrors);
        var customerId = ReadString(root, "customer_id", ref typeErrors);
        string? metadata = null;
        if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind != JsonValueKind.Null)
        {
            if (meta.ValueKind == JsonValueKind.Object)
            {
                metadata = meta.GetRawText();
            }
            else
            {
                (typeErrors ??= NewErrors())["metadata"] = ["Must be a JSON object."];
            }
        }

        if (typeErrors is not null)
        {
            return (null, Problems.WrongTypes(typeErrors));
        }

        Dictionary<string, string[]>? errors = null;
        if (text is null)
        {
            (errors ??= NewErrors())["text"] = ["Is required."];
        }
        else if (string.IsNullOrWhiteSpace(text))
        {
            (errors ??= NewErrors())["text"] = ["Must not be empty or only white space."];
        }

        if (source?.Length > MaxSourceLength)
        {
            (errors ??= NewErrors())["source"] = [$"Must be at most {MaxSourceLength} characters."];
        }

        if (customerId?.Length > MaxCustomerIdLength)
        {
            (errors ??= NewErrors())["customer_id"] = [$"Must be at most {MaxCustomerIdLength} characters."];
        }

        if (errors is not null)
        {
            return (null, Problems.Validation(errors));
        }

        return (new Submission(text!, source, customerId, metadata, body), null);
    }

    private static Dictionary<string, string[]> NewErrors() => new(StringComparer.Ordinal);

    private static string? ReadString(JsonElement root, string name, ref Dictionary<string, string[]>? typeErrors)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            (typeErrors ??= NewErrors())[name] = [$"Must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}."];
            return null;
        }

        return value.GetString();
    }

    /// <summary>application/json or application/*+json, in UTF-8 when a charset is named.</summary>
    internal static bool IsJson(string? contentType)
    {
        // What nearly every client sends, answered without parsing the header.
        if (string.Equals(contentType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }

        var charset = media.Charset.Value;
        if (charset is not null && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (media.SubType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true && media.Type.Equals("application", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Reads the whole body, or returns null as soon as it passes <paramref name="limit"/> bytes.</summary>
    internal static async Task<byte[]?> ReadBodyAsync(PipeReader reader, int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (read.IsCompleted)
            {
                var bytes = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return bytes;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
