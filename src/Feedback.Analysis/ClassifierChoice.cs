namespace Feedback.Analysis;

/// <summary>CLASSIFIER: the deep model (sentence encoder and trained heads) or the fast lexical one alone.</summary>
internal static class ClassifierChoice
{
    /// <summary>deep, fast, or empty (the default, deep), in any case: the server's and the CLI's one reading of CLASSIFIER.</summary>
    public static bool TryParse(string? value, out bool deep)
    {
        var name = value?.Trim() ?? "";
        deep = !name.Equals("fast", StringComparison.OrdinalIgnoreCase);
        return name.Length == 0 || !deep || name.Equals("deep", StringComparison.OrdinalIgnoreCase);
    }
}
