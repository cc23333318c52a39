using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Feedback.Analysis;

/// <summary>One configured topic.</summary>
/// <param name="Description">What the topic covers, in a sentence; the LLM's prompt quotes it.</param>
/// <param name="Includes">Built-in topics whose labelled training rows count as this topic (a rename keeps its rows).</param>
/// <param name="Examples">Messages that belong to it; the deep heads learn from them beside the labelled rows.</param>
public sealed record TopicDefinition(Topic Topic, string Description, IReadOnlyList<Topic> Includes, IReadOnlyList<string> Examples);

/// <summary>
/// The topics answers may carry, defined by examples in a file (training/taxonomy.json) and baked into the deep model by
/// <c>./run.sh train</c>: the service reads them back from that model, so its heads and its topics always agree. By
/// default the contract's six. A message that fits none of them goes to <see cref="Fallback"/>.
/// </summary>
public sealed class Taxonomy
{
    public const string DefaultPath = "training/taxonomy.json";

    /// <summary>
    /// The <see cref="Fingerprint"/> of the shipped <see cref="DefaultPath"/>: heads trained on it are named <c>deep-6</c>,
    /// on any other file <c>deep-6+t</c> and its fingerprint (a test keeps this in step with the file).
    /// </summary>
    public const string ShippedFingerprint = "76226ad6";

    private static readonly JsonSerializerOptions FileOptions = new()
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    private readonly Dictionary<Topic, int> indexes;
    private readonly Dictionary<Topic, Topic> fromBuiltIn;
    private string? fingerprint;

    public Taxonomy(IReadOnlyList<TopicDefinition> definitions, Topic fallback)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        if (definitions.Count < 2)
        {
            throw new ArgumentException("a taxonomy needs at least two topics", nameof(definitions));
        }

        indexes = [];
        for (var i = 0; i < definitions.Count; i++)
        {
            if (!indexes.TryAdd(definitions[i].Topic, i))
            {
                throw new ArgumentException($"the topic '{definitions[i].Topic}' is defined twice", nameof(definitions));
            }
        }

        if (!indexes.ContainsKey(fallback))
        {
            throw new ArgumentException($"the fallback topic '{fallback}' is not one of the topics", nameof(fallback));
        }

        // A built-in topic maps to itself when configured, else to the topic that includes it, else to the fallback.
        fromBuiltIn = [];
        foreach (var definition in definitions)
        {
            foreach (var included in definition.Includes)
            {
                if (included.BuiltInIndex < 0)
                {
                    throw new ArgumentException($"'{definition.Topic}' includes '{included}', which is not one of the built-in topics ({string.Join(", ", Topic.BuiltIn)})", nameof(definitions));
                }

                if (indexes.ContainsKey(included) && included != definition.Topic)
                {
                    throw new ArgumentException($"'{definition.Topic}' includes '{included}', which is a configured topic of its own", nameof(definitions));
                }

                if (!fromBuiltIn.TryAdd(included, definition.Topic))
                {
                    throw new ArgumentException($"'{included}' is included by two topics", nameof(definitions));
                }
            }
        }

        foreach (var builtIn in Topic.BuiltIn)
        {
            fromBuiltIn.TryAdd(builtIn, indexes.ContainsKey(builtIn) ? builtIn : fallback);
        }

        Definitions = definitions;
        Topics = [.. definitions.Select(d => d.Topic)];
        Fallback = fallback;
        IsBuiltIn = Topics.SequenceEqual(Topic.BuiltIn);
    }

    /// <summary>The contract's six with no examples: what a model trained before taxonomies existed means.</summary>
    public static Taxonomy BuiltIn { get; } = new([.. Topic.BuiltIn.Select(t => new TopicDefinition(t, "", [], []))], Topic.General);

    public IReadOnlyList<TopicDefinition> Definitions { get; }

    /// <summary>The configured topics in file order: the order of the heads' classes and of every answer's scores.</summary>
    public IReadOnlyList<Topic> Topics { get; }

    public Topic Fallback { get; }

    /// <summary>True when the topics are the contract's six in their order (descriptions and examples may differ).</summary>
    public bool IsBuiltIn { get; }

    public int IndexOf(Topic topic) => indexes.TryGetValue(topic, out var index) ? index : -1;

    public bool Contains(Topic topic) => indexes.ContainsKey(topic);

    /// <summary>A configured topic only: what requests, filters and the LLM may name.</summary>
    public bool TryParse(string? text, out Topic value) => Topic.TryParse(text, out value) && Contains(value);

    /// <summary>The configured topic a built-in one's answers and training rows count as.</summary>
    public Topic FromBuiltIn(Topic topic) => fromBuiltIn.TryGetValue(topic, out var mapped) ? mapped : Fallback;

    /// <summary>Short, stable digest of everything training reads from the taxonomy; model versions carry it.</summary>
    public string Fingerprint() => fingerprint ??= Digest();

    private string Digest()
    {
        var text = new StringBuilder().Append(Fallback).Append('\n');
        foreach (var d in Definitions)
        {
            text.Append(d.Topic).Append('\t').Append(d.Description).Append('\t').AppendJoin(',', d.Includes).Append('\n');
            foreach (var example in d.Examples)
            {
                text.Append('\t').Append(example).Append('\n');
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..8];
    }

    /// <summary>The listing a user edits: see training/taxonomy.json for the format.</summary>
    public static Taxonomy Load(string path)
    {
        TaxonomyFile? file;
        try
        {
            file = JsonSerializer.Deserialize<TaxonomyFile>(File.ReadAllText(path), FileOptions);
        }
        catch (Exception exception) when (exception is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: {exception.Message}", exception);
        }

        if (file?.Topics is not { Count: > 0 } topics)
        {
            throw new InvalidDataException($"{path}: no \"topics\"");
        }

        try
        {
            var definitions = topics.Select(t =>
            {
                var topic = ParseName(t.Name, "topic name");
                var includes = t.Includes is null
                    ? (topic.BuiltInIndex >= 0 ? [topic] : [])
                    : t.Includes.Select(i => ParseName(i, $"'{topic}' includes")).ToArray();
                return new TopicDefinition(topic, t.Description?.Trim() ?? "", includes, [.. (t.Examples ?? []).Where(e => !string.IsNullOrWhiteSpace(e))]);
            }).ToArray();
            return new Taxonomy(definitions, ParseName(file.Fallback ?? "general", "fallback"));
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: {exception.Message.Split(" (Parameter", 2)[0]}", exception);
        }
    }

    private static Topic ParseName(string? name, string what) =>
        Topic.TryParse(name, out var topic) ? topic : throw new InvalidDataException($"{what} '{name}' is not a topic name: lower-case letters, digits and '_', starting with a letter, at most {Topic.MaxNameLength} characters");

    private sealed record TaxonomyFile(string? Fallback, List<TopicFile>? Topics);

    private sealed record TopicFile(string? Name, string? Description, List<string>? Includes, List<string>? Examples);
}
