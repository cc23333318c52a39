using System.Globalization;

namespace Feedback.Analysis.Local;

/// <summary>
/// Word valences (VADER's lexicon with our product-feedback entries from domain.json on top) and the
/// domain phrases. Immutable after construction, so one instance is shared by all threads.
/// </summary>
internal sealed class SentimentLexicon
{
    private static readonly Lazy<SentimentLexicon> Embedded = new(LoadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Dictionary<string, double> words;
    private readonly Dictionary<string, double>.AlternateLookup<ReadOnlySpan<char>> lookup;

    public SentimentLexicon(IEnumerable<KeyValuePair<string, double>> wordValences, IEnumerable<KeyValuePair<string, double>> phraseValences)
    {
        words = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (word, valence) in wordValences)
        {
            // Later entries win, as in VADER's dictionary load; that is how domain words override.
            words[word] = valence;
        }

        lookup = words.GetAlternateLookup<ReadOnlySpan<char>>();
        Phrases = new PhraseTable<double>(phraseValences);
    }

    public static SentimentLexicon Default => Embedded.Value;

    public int WordCount => words.Count;

    public PhraseTable<double> Phrases { get; }

    public bool TryGetValence(ReadOnlySpan<char> word, out double valence) => lookup.TryGetValue(word, out valence);

    public bool Contains(ReadOnlySpan<char> word) => lookup.ContainsKey(word);

    private static SentimentLexicon LoadEmbedded()
    {
        var entries = new List<KeyValuePair<string, double>>(7600);
        using (var reader = new StreamReader(EmbeddedData.Open("vader_lexicon.txt")))
        {
            entries.AddRange(ParseVader(reader));
        }

        using var domain = EmbeddedData.Json("domain.json");
        var phrases = new List<KeyValuePair<string, double>>();
        foreach (var property in domain.RootElement.GetProperty("entries").EnumerateObject())
        {
            var valence = property.Value.GetDouble();
            var isPhrase = property.Name.Contains(' ', StringComparison.Ordinal);
            if (isPhrase)
            {
                phrases.Add(new(property.Name, valence));
            }
            else
            {
                entries.Add(new(property.Name.ToLowerInvariant(), valence));
            }
        }

        return new SentimentLexicon(entries, phrases);
    }

    internal static IEnumerable<KeyValuePair<string, double>> ParseVader(TextReader reader)
    {
        while (reader.ReadLine() is { } line)
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab <= 0)
            {
                continue;
            }

            var end = line.IndexOf('\t', tab + 1);
            var number = end < 0 ? line.AsSpan(tab + 1) : line.AsSpan(tab + 1, end - tab - 1);
            yield return new(line[..tab], double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
    }
}
