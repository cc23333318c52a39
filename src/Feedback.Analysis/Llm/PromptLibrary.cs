using System.Reflection;

namespace Feedback.Analysis.Llm;

/// <summary>A versioned system prompt; the version is stored with every result it produced.</summary>
public sealed record PromptVersion(string Name, string SystemPrompt);

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
