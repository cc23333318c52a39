using System.Globalization;
using System.Runtime.InteropServices;

namespace Feedback.Analysis.Local;

/// <summary>What VADER needs to know about one word, from a single look-up.</summary>
[Flags]
internal enum WordKinds : byte
{
    None = 0,
    Lexicon = 1,
    Booster = 2,
    Negation = 4,
    ClauseOpener = 8,

    /// <summary>The first word of a VADER idiom or phrase booster ("the bomb", "kind of"): any other word starts none.</summary>
    IdiomStart = 16,
}

/// <param name="Valence">The lexicon valence (when <see cref="WordKinds.Lexicon"/>).</param>
/// <param name="BoosterScalar">VADER's booster increment (when <see cref="WordKinds.Booster"/>).</param>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct WordFacts(WordKinds Kinds, double Valence, double BoosterScalar)
{
    public bool Is(WordKinds kind) => (Kinds & kind) != WordKinds.None;
}

/// <summary>
/// Word valences (VADER's lexicon with our product-feedback entries from domain.json on top) and the
/// domain phrases. Immutable after construction, so one instance is shared by all threads.
/// </summary>
internal sealed class SentimentLexicon
{
    private static readonly Lazy<SentimentLexicon> Embedded = new(LoadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

    // One table for the lexicon, VADER's boosters, negations, clause openers and idiom starts: one probe per token,
    // with the hash the tokenizer computed.
    private readonly WordTable<WordFacts> lookup;

    public SentimentLexicon(IEnumerable<KeyValuePair<string, double>> wordValences, IEnumerable<KeyValuePair<string, double>> phraseValences)
    {
        var words = new Dictionary<string, WordFacts>(StringComparer.Ordinal);
        foreach (var (word, valence) in wordValences)
        {
            // Later entries win, as in VADER's dictionary load; that is how domain words override.
            words[word] = new WordFacts(WordKinds.Lexicon, valence, 0);
        }

        WordCount = words.Count;
        foreach (var (word, scalar) in Vader.Boosters)
        {
            var known = words.GetValueOrDefault(word);
            words[word] = known with { Kinds = known.Kinds | WordKinds.Booster, BoosterScalar = scalar };
        }

        Mark(words, Vader.Negations, WordKinds.Negation);
        Mark(words, Vader.ClauseOpeners, WordKinds.ClauseOpener);
        Mark(words, Vader.IdiomStarts, WordKinds.IdiomStart);
        lookup = new WordTable<WordFacts>(words);
        Phrases = new PhraseTable<double>(phraseValences);
    }

    public static SentimentLexicon Default => Embedded.Value;

    public int WordCount { get; }

    public PhraseTable<double> Phrases { get; }

    public bool Contains(ReadOnlySpan<char> word) => lookup.TryGetValue(word, out var facts) && facts.Is(WordKinds.Lexicon);

    /// <summary>Everything VADER knows about <paramref name="word"/>; no kinds for an unknown word.</summary>
    public WordFacts Facts(ReadOnlySpan<char> word) => lookup.TryGetValue(word, out var facts) ? facts : default;

    /// <summary>The facts of token <paramref name="index"/>'s word, probed with the hash its tokenizer computed.</summary>
    public WordFacts Facts(TokenizedText text, int index) =>
        lookup.TryGetValue(text[index].WordHash, text.Word(index), out var facts) ? facts : default;

    private static void Mark(Dictionary<string, WordFacts> words, IEnumerable<string> list, WordKinds kind)
    {
        foreach (var word in list)
        {
            var known = words.GetValueOrDefault(word);
            words[word] = known with { Kinds = known.Kinds | kind };
        }
    }

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
