using System.Reflection;

namespace Feedback.Analysis.Themes;

/// <summary>
/// Key phrases of each theme by class-based TF-IDF: a phrase (one to three words, neither starting nor ending with a
/// stop word) scores the share of the theme's messages that contain it times log(1 + A / n), where n is the number of
/// messages containing it anywhere (every theme and the outliers) and A the mean number of messages per class. A phrase
/// common to every theme scores low however often it occurs; one found in a single message comes after every phrase
/// found in two. Phrases
/// that share a word stem with a better one are left out (no "export", "csv export", "exports" in one label).
/// </summary>
public static class KeyPhrases
{
    public const int MaxWords = 3;

    private static readonly HashSet<string> StopWords = LoadStopWords();

    /// <summary>
    /// Up to <paramref name="take"/> phrases per class, best first. <paramref name="classes"/> holds each theme's texts;
    /// <paramref name="background"/> the texts in no theme, which count only in how common a phrase is.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<KeyPhrase>> Extract(IReadOnlyList<IReadOnlyList<string>> classes, IReadOnlyList<string> background, int take = 8)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(background);
        var perClass = classes.Select(texts => CountDocuments(texts)).ToList();
        var everywhere = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var counts in perClass.Append(CountDocuments(background)))
        {
            foreach (var (phrase, n) in counts)
            {
                everywhere[phrase] = everywhere.GetValueOrDefault(phrase) + n;
            }
        }

        var classCount = classes.Count + (background.Count > 0 ? 1 : 0);
        var average = (classes.Sum(c => c.Count) + background.Count) / (double)Math.Max(1, classCount);
        var result = new List<IReadOnlyList<KeyPhrase>>(classes.Count);
        for (var c = 0; c < classes.Count; c++)
        {
            var size = classes[c].Count;
            // A phrase of one message says little about a theme: those come only after every phrase of two or more.
            var ranked = perClass[c]
                .Select(p => (Phrase: new KeyPhrase(p.Key, p.Value / (double)size * Math.Log(1 + (average / everywhere[p.Key]))), Shared: p.Value >= 2))
                .OrderByDescending(p => p.Shared)
                .ThenByDescending(p => p.Phrase.Score)
                .ThenByDescending(p => p.Phrase.Phrase.Count(ch => ch == ' '))
                .ThenBy(p => p.Phrase.Phrase, StringComparer.Ordinal)
                .Select(p => p.Phrase);
            var chosen = new List<KeyPhrase>();
            var stems = new HashSet<string>(StringComparer.Ordinal);
            foreach (var phrase in ranked)
            {
                var own = phrase.Phrase.Split(' ').Where(w => !StopWords.Contains(w)).Select(Stem).ToList();
                if (own.Any(stems.Contains))
                {
                    continue;
                }

                chosen.Add(phrase);
                stems.UnionWith(own);
                if (chosen.Count == take)
                {
                    break;
                }
            }

            result.Add(chosen);
        }

        return result;
    }

    /// <summary>A label of 2 to 4 of the phrases: the best, and the next ones scoring at least 40 % of it.</summary>
    public static string Label(IReadOnlyList<KeyPhrase> phrases)
    {
        ArgumentNullException.ThrowIfNull(phrases);
        if (phrases.Count == 0)
        {
            return "";
        }

        var top = phrases[0].Score;
        var kept = phrases.Take(4).Where((p, i) => i < 2 || p.Score >= top * 0.4).Select(p => p.Phrase);
        return string.Join(", ", kept);
    }

    /// <summary>For each phrase, the number of texts containing it (once per text).</summary>
    private static Dictionary<string, int> CountDocuments(IReadOnlyList<string> texts)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            seen.Clear();
            foreach (var run in Runs(text))
            {
                for (var start = 0; start < run.Count; start++)
                {
                    if (StopWords.Contains(run[start]))
                    {
                        continue;
                    }

                    for (var length = 1; length <= MaxWords && start + length <= run.Count; length++)
                    {
                        var last = run[start + length - 1];
                        if (!StopWords.Contains(last))
                        {
                            seen.Add(length == 1 ? last : string.Join(' ', run.Skip(start).Take(length)));
                        }
                    }
                }
            }

            foreach (var phrase in seen)
            {
                counts[phrase] = counts.GetValueOrDefault(phrase) + 1;
            }
        }

        return counts;
    }

    /// <summary>
    /// The text's words, lower case, in runs that punctuation ends (a phrase never spans a comma or a full stop). A word
    /// is letters, digits and inner apostrophes with at least one letter; a single letter is no word.
    /// </summary>
    private static List<List<string>> Runs(string text)
    {
        var runs = new List<List<string>>();
        var run = new List<string>();
        var word = new System.Text.StringBuilder();
        void EndWord()
        {
            if (word.Length > 1 && word.ToString().Any(char.IsLetter))
            {
                run.Add(word.ToString().Trim('\''));
            }

            word.Clear();
        }

        foreach (var ch in text)
        {
            if (char.IsLetterOrDigit(ch) || (ch is '\'' or '’' && word.Length > 0))
            {
                word.Append(ch is '’' ? '\'' : char.ToLowerInvariant(ch));
            }
            else
            {
                EndWord();
                if (!char.IsWhiteSpace(ch) && ch is not ('-' or '/' or '"' or '('  or ')'))
                {
                    runs.Add(run);
                    run = [];
                }
            }
        }

        EndWord();
        runs.Add(run);
        return [.. runs.Where(r => r.Count > 0)];
    }

    /// <summary>A crude stem for telling near-duplicates apart: the first five letters of a longer word, a shorter one whole.</summary>
    private static string Stem(string word) => word.Length > 5 ? word[..5] : word.TrimEnd('s');

    private static HashSet<string> LoadStopWords()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Feedback.Analysis.theme-stopwords.txt")
            ?? throw new InvalidOperationException("The theme stop words are not embedded.");
        using var reader = new StreamReader(stream);
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (!line.StartsWith('#'))
            {
                words.UnionWith(line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
        }

        return words;
    }
}

/// <summary>A key phrase of a theme and its class-based TF-IDF score.</summary>
public sealed record KeyPhrase(string Phrase, double Score);
