using System.Text.Json;

namespace Feedback.Analysis.Local;

/// <summary>Reads the lexicon files compiled into this assembly (see the csproj).</summary>
internal static class EmbeddedData
{
    public static Stream Open(string name)
    {
        var fullName = "Feedback.Analysis." + name;
        return typeof(EmbeddedData).Assembly.GetManifestResourceStream(fullName)
            ?? throw new InvalidOperationException($"Embedded resource '{fullName}' is missing from the build.");
    }

    public static JsonDocument Json(string name)
    {
        using var stream = Open(name);
        return JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
    }
}
