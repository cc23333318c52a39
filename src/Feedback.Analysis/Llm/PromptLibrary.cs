using System.Reflection;

namespace Feedback.Analysis.Llm;

/// <summary>A versioned system prompt; the version is stored with every result it produced.</summary>
public sealed record PromptVersion(string Name, string SystemPrompt)
{
    private const string TopicSection = "topic, exactly one";

    /// <summary>
    /// The prompt for a taxonomy: as written for the contract's six (its descriptions are tuned); for others, the topic list (from the line that
    /// starts with "topic, exactly one" to the next blank line) becomes the taxonomy's descriptions, and hard cases
    /// ("... -> negative, bug") that name a topic it does not have are left out.
    /// </summary>
    public string For(Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        if (taxonomy.IsBuiltIn)
        {
            return SystemPrompt;
        }

        var lines = SystemPrompt.Split('\n');
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith(TopicSection, StringComparison.Ordinal))
            {
                text.Append(lines[i]).Append('\n');
                foreach (var d in taxonomy.Definitions)
                {
                    text.Append("- ").Append(d.Topic.Name).Append(": ").Append(d.Description.Length > 0 ? d.Description : d.Topic.Name.Replace('_', ' ')).Append('\n');
                }

                while (i + 1 < lines.Length && lines[i + 1].Trim().Length > 0)
                {
                    i++;
                }

                continue;
            }

            var arrow = lines[i].LastIndexOf("-> ", StringComparison.Ordinal);
            if (arrow >= 0 && lines[i][(arrow + 3)..].Split([',', ' ', '('], StringSplitOptions.RemoveEmptyEntries) is [_, var topic, ..]
                && !taxonomy.Contains(Topic.TryParse(topic, out var named) ? named : default))
            {
                continue;
            }

            text.Append(lines[i]).Append(i + 1 < lines.Length ? "\n" : "");
        }

        return text.ToString();
    }
}

/// <summary>The prompt files shipped in the assembly (Llm/Prompts/NAME.md).</summary>
public static class PromptLibrary
{
    private const string Prefix = "Feedback.Analysis.Prompts.";

    private static readonly Lazy<IReadOnlyDictionary<string, PromptVersion>> All = new(Load);

    public static IReadOnlyCollection<string> Names => [.. All.Value.Keys.Order(StringComparer.Ordinal)];

    public static bool TryGet(string name, out PromptVersion prompt) => All.Value.TryGetValue(name, out prompt!);

    public static PromptVersion Get(string name) =>
        TryGet(name, out var prompt)
            ? prompt
            : throw new ArgumentException($"There is no prompt version '{name}' (known: {string.Join(", ", Names)}).", nameof(name));

    private static Dictionary<string, PromptVersion> Load()
    {
        var assembly = typeof(PromptLibrary).Assembly;
        var prompts = new Dictionary<string, PromptVersion>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var name = resource[Prefix.Length..^".md".Length];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            prompts[name] = new PromptVersion(name, reader.ReadToEnd().Trim());
        }

        return prompts;
    }
}
