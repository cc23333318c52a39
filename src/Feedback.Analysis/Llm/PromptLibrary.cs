using System.Reflection;

namespace Feedback.Analysis.Llm;

/// <summary>A versioned system prompt; the version is stored with every result it produced.</summary>
public sealed record PromptVersion(string Name, string SystemPrompt)
{
    private const string TopicSection = "topic, exactly one";
    private const string BuiltInListing = "bug, feature_request, billing, performance, ux or general";

    /// <summary>
    /// The prompt for a taxonomy: as written for the contract's six (its descriptions are tuned); for others, the
    /// topic list (from the line that starts with "topic, exactly one" to the next blank line, added at the end when
    /// the prompt has none) becomes the taxonomy's descriptions, an inline listing of the six becomes the configured
    /// names, and hard cases ("... -> negative, bug") name the topic their built-in one counts as, or are left out when
    /// that is only the fallback.
    /// </summary>
    public string For(Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        if (taxonomy.IsBuiltIn)
        {
            return SystemPrompt;
        }

        var names = taxonomy.Topics.Select(t => t.Name).ToList();
        var listing = names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} or {names[^1]}";
        var lines = SystemPrompt.Split('\n');
        var text = new System.Text.StringBuilder();
        var listed = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Replace(BuiltInListing, listing, StringComparison.Ordinal);
            if (line.StartsWith(TopicSection, StringComparison.Ordinal))
            {
                text.Append(line).Append('\n');
                AppendDefinitions(text, taxonomy);
                listed = true;
                while (i + 1 < lines.Length && lines[i + 1].Trim().Length > 0)
                {
                    i++;
                }

                continue;
            }

            if (HardCase(line, taxonomy) is not { } kept)
            {
                continue;
            }

            text.Append(kept).Append(i + 1 < lines.Length ? "\n" : "");
        }

        if (!listed)
        {
            text.Append(text.Length > 0 && text[^1] != '\n' ? "\n\n" : "\n").Append(TopicSection).Append(" of:\n");
            AppendDefinitions(text, taxonomy);
        }

        return text.ToString();
    }

    private static void AppendDefinitions(System.Text.StringBuilder text, Taxonomy taxonomy)
    {
        foreach (var d in taxonomy.Definitions)
        {
            text.Append("- ").Append(d.Topic.Name).Append(": ").Append(d.Description.Length > 0 ? d.Description : d.Topic.Name.Replace('_', ' ')).Append('\n');
        }
    }

    /// <summary>A line as it stays: a hard case's topic mapped into the taxonomy; null to leave the line out.</summary>
    private static string? HardCase(string line, Taxonomy taxonomy)
    {
        var arrow = line.LastIndexOf("-> ", StringComparison.Ordinal);
        if (arrow < 0 || line[(arrow + 3)..].Split([',', ' ', '('], StringSplitOptions.RemoveEmptyEntries) is not [_, var name, ..]
            || !Topic.TryParse(name, out var named) || taxonomy.Contains(named))
        {
            return line;
        }

        var mapped = taxonomy.FromBuiltIn(named);
        if (named.BuiltInIndex < 0 || mapped == taxonomy.Fallback)
        {
            return null;
        }

        var at = line.IndexOf(", " + name, arrow, StringComparison.Ordinal);
        return at < 0 ? null : string.Concat(line.AsSpan(0, at + 2), mapped.Name, line.AsSpan(at + 2 + name.Length));
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
