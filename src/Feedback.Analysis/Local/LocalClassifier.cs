namespace Feedback.Analysis.Local;

/// <summary>The offline classifier behind <c>ml_fallback</c>. Thread-safe; create one and share it.</summary>
public sealed class LocalClassifier : ILocalClassifier
{
    /// <summary>Bump whenever a lexicon, rule or weight changes what any text is classified as.</summary>
    public const string CurrentVersion = LexiconClassifier.CurrentVersion;

    private readonly LexiconClassifier lexicon = new();

    public string Version => CurrentVersion;

    public Classification Classify(string text) => lexicon.Classify(text);
}
