using System.Runtime.InteropServices;

namespace Feedback.Analysis.Local;

/// <summary>VADER's four outputs: compound in [-1, 1] and the positive/negative/neutral proportions.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct PolarityScores(double Compound, double Positive, double Negative, double Neutral);

/// <summary>A clause of the message (a character range of the source) and its own normalised score.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct ClauseScore(int Start, int Length, double Compound);

/// <summary>A word or phrase that moved the score, with its valence after negation and boosters.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct SentimentCue(int Start, int Length, double Valence);

internal sealed record SentimentEvidence(PolarityScores Overall, IReadOnlyList<ClauseScore> Clauses, IReadOnlyList<SentimentCue> Cues)
{
    public double StrongestPraise => Clauses.Count == 0 ? 0 : Math.Max(0, HighestCompound());

    public double StrongestComplaint => Clauses.Count == 0 ? 0 : Math.Max(0, -LowestCompound());

    // Loops rather than LINQ's Max and Min, which box the list's enumerator on every message; NaN is handled as
    // LINQ does (Max passes over it, Min returns it), so the answers stay the same.
    private double HighestCompound()
    {
        var highest = Clauses[0].Compound;
        for (var c = 1; c < Clauses.Count; c++)
        {
            var compound = Clauses[c].Compound;
            if (compound > highest || double.IsNaN(highest))
            {
                highest = compound;
            }
        }

        return highest;
    }

    private double LowestCompound()
    {
        var lowest = Clauses[0].Compound;
        if (double.IsNaN(lowest))
        {
            return lowest;
        }

        for (var c = 1; c < Clauses.Count; c++)
        {
            var compound = Clauses[c].Compound;
            if (double.IsNaN(compound))
            {
                return compound;
            }

            lowest = compound < lowest ? compound : lowest;
        }

        return lowest;
    }
}

/// <summary>
/// A port of VADER (Hutto &amp; Gilbert, ICWSM 2014; the vaderSentiment 3.3 algorithm) extended with
/// domain phrases and per-clause scores. Stateless apart from the shared read-only lexicon.
/// </summary>
/// <remarks>
/// Deliberate differences from the reference code, each fixing a known defect: punctuation is trimmed
/// from short words too ("ok." is "ok"), the "but" rule weights tokens by position (the reference looks
/// positions up by value), "never so/this" at three tokens back needs the "never", and idioms are checked
/// for every lexicon word rather than only from the fourth token on.
/// </remarks>
internal sealed class Vader(SentimentLexicon lexicon)
{
    public const double BoosterIncrement = 0.293;
    public const double BoosterDecrement = -0.293;
    public const double CapsIncrement = 0.733;
    public const double NegationScalar = -0.74;
    public const double Alpha = 15;

    internal static readonly HashSet<string> Negations = new(StringComparer.Ordinal)
    {
        "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt",
        "ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't",
        "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither",
        "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
        "neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing", "nowhere",
        "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent",
        "oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't",
        "without", "wont", "wouldnt", "won't", "wouldn't", "rarely", "seldom", "despite",
    };

    internal static readonly Dictionary<string, double> Boosters = new(StringComparer.Ordinal)
    {
        ["absolutely"] = BoosterIncrement, ["amazingly"] = BoosterIncrement, ["awfully"] = BoosterIncrement,
        ["completely"] = BoosterIncrement, ["considerable"] = BoosterIncrement, ["considerably"] = BoosterIncrement,
        ["decidedly"] = BoosterIncrement, ["deeply"] = BoosterIncrement, ["effing"] = BoosterIncrement,
        ["enormous"] = BoosterIncrement, ["enormously"] = BoosterIncrement, ["entirely"] = BoosterIncrement,
        ["especially"] = BoosterIncrement, ["exceptional"] = BoosterIncrement, ["exceptionally"] = BoosterIncrement,
        ["extreme"] = BoosterIncrement, ["extremely"] = BoosterIncrement, ["fabulously"] = BoosterIncrement,
        ["flipping"] = BoosterIncrement, ["flippin"] = BoosterIncrement, ["frackin"] = BoosterIncrement,
        ["fracking"] = BoosterIncrement, ["fricking"] = BoosterIncrement, ["frickin"] = BoosterIncrement,
        ["frigging"] = BoosterIncrement, ["friggin"] = BoosterIncrement, ["fully"] = BoosterIncrement,
        ["fuckin"] = BoosterIncrement, ["fucking"] = BoosterIncrement, ["fuggin"] = BoosterIncrement,
        ["fugging"] = BoosterIncrement, ["greatly"] = BoosterIncrement, ["hella"] = BoosterIncrement,
        ["highly"] = BoosterIncrement, ["hugely"] = BoosterIncrement, ["incredible"] = BoosterIncrement,
        ["incredibly"] = BoosterIncrement, ["intensely"] = BoosterIncrement, ["major"] = BoosterIncrement,
        ["majorly"] = BoosterIncrement, ["more"] = BoosterIncrement, ["most"] = BoosterIncrement,
        ["particularly"] = BoosterIncrement, ["purely"] = BoosterIncrement, ["quite"] = BoosterIncrement,
        ["really"] = BoosterIncrement, ["remarkably"] = BoosterIncrement, ["so"] = BoosterIncrement,
        ["substantially"] = BoosterIncrement, ["thoroughly"] = BoosterIncrement, ["total"] = BoosterIncrement,
        ["totally"] = BoosterIncrement, ["tremendous"] = BoosterIncrement, ["tremendously"] = BoosterIncrement,
        ["uber"] = BoosterIncrement, ["unbelievably"] = BoosterIncrement, ["unusually"] = BoosterIncrement,
        ["utter"] = BoosterIncrement, ["utterly"] = BoosterIncrement, ["very"] = BoosterIncrement,
        ["almost"] = BoosterDecrement, ["barely"] = BoosterDecrement, ["hardly"] = BoosterDecrement,
        ["just enough"] = BoosterDecrement, ["kind of"] = BoosterDecrement, ["kinda"] = BoosterDecrement,
        ["kindof"] = BoosterDecrement, ["kind-of"] = BoosterDecrement, ["less"] = BoosterDecrement,
        ["little"] = BoosterDecrement, ["marginal"] = BoosterDecrement, ["marginally"] = BoosterDecrement,
        ["occasional"] = BoosterDecrement, ["occasionally"] = BoosterDecrement, ["partly"] = BoosterDecrement,
        ["scarce"] = BoosterDecrement, ["scarcely"] = BoosterDecrement, ["slight"] = BoosterDecrement,
        ["slightly"] = BoosterDecrement, ["somewhat"] = BoosterDecrement, ["sort of"] = BoosterDecrement,
        ["sorta"] = BoosterDecrement, ["sortof"] = BoosterDecrement, ["sort-of"] = BoosterDecrement,
    };

    private static readonly (string[] Words, double Valence)[] SpecialCases =
    [
        (["the", "shit"], 3), (["the", "bomb"], 3), (["bad", "ass"], 1.5), (["badass"], 1.5), (["bus", "stop"], 0),
        (["yeah", "right"], -2), (["kiss", "of", "death"], -1.5), (["to", "die", "for"], 3),
        (["beating", "heart"], 3.1), (["broken", "heart"], -2.9),
        (["cut", "the", "mustard"], 2), (["hand", "to", "mouth"], -2), (["back", "handed"], -2),
        (["blow", "smoke"], -2), (["blowing", "smoke"], -2), (["upper", "hand"], 1), (["break", "a", "leg"], 2),
        (["cooking", "with", "gas"], 2), (["in", "the", "black"], 2), (["in", "the", "red"], -2),
        (["on", "the", "ball"], 2), (["under", "the", "weather"], -2),
    ];

    private static readonly (string[] Words, double Valence)[] PhraseBoosters =
        [(["just", "enough"], BoosterDecrement), (["kind", "of"], BoosterDecrement), (["sort", "of"], BoosterDecrement)];

    /// <summary>Words that open a new clause: the contrast markers a mixed message turns on.</summary>
    internal static readonly HashSet<string> ClauseOpeners = new(StringComparer.Ordinal)
    {
        "but", "however", "although", "though", "yet", "whereas", "except", "nevertheless", "nonetheless", "otherwise", "unfortunately", "sadly",
    };

    private static readonly WordTable<bool> NegationTable = WordHash.Set(Negations);

    /// <summary>The words the idioms and phrase boosters start with (<see cref="WordKinds.IdiomStart"/> in the lexicon's facts).</summary>
    internal static readonly string[] IdiomStarts = [.. SpecialCases.Concat(PhraseBoosters).Select(c => c.Words[0]).Distinct(StringComparer.Ordinal)];

    /// <summary>Each token's facts, looked up once per analysis; per thread, like the tokens.</summary>
    [ThreadStatic]
    private static WordFacts[]? perThreadFacts;

    public SentimentLexicon Lexicon => lexicon;

    public static double Normalize(double score) => Math.Clamp(score / Math.Sqrt((score * score) + Alpha), -1, 1);

    public SentimentEvidence Analyze(string text) => Analyze(TokenizedText.For(text, lexicon));

    /// <summary>Scores already tokenised text; the tokens must come from this lexicon.</summary>
    public SentimentEvidence Analyze(TokenizedText text)
    {
        var count = text.Count;
        var sentiments = text.Scratch;
        var phraseLengths = text.PhraseLengths;
        var facts = FactsOf(text);
        MarkPhrases(text);

        for (var i = 0; i < count; i++)
        {
            sentiments[i] = 0;
            if (phraseLengths[i] < 0)
            {
                continue;
            }

            if (phraseLengths[i] == 0)
            {
                if (facts[i].Is(WordKinds.Booster) || (text.Word(i).SequenceEqual("kind") && text.WordIs(i + 1, "of")))
                {
                    continue;
                }
            }

            sentiments[i] = Valence(text, facts, i);
        }

        var cues = Cues(text, sentiments);
        var clauses = Clauses(text, facts, sentiments);
        ApplyButRule(text, sentiments);
        return new SentimentEvidence(Score(text, sentiments), clauses, cues);
    }

    private WordFacts[] FactsOf(TokenizedText text)
    {
        var facts = perThreadFacts;
        if (facts is null || facts.Length < text.Count)
        {
            facts = perThreadFacts = new WordFacts[Math.Max(text.Count, 96)];
        }

        for (var i = 0; i < text.Count; i++)
        {
            facts[i] = lexicon.Facts(text, i);
            if (!facts[i].Is(WordKinds.Negation) && text.HasApostrophe(i) && text.Word(i).IndexOf("n't", StringComparison.Ordinal) >= 0)
            {
                facts[i] = facts[i] with { Kinds = facts[i].Kinds | WordKinds.Negation };
            }
        }

        return facts;
    }

    private void MarkPhrases(TokenizedText text)
    {
        var lengths = text.PhraseLengths;
        var i = 0;
        while (i < text.Count)
        {
            if (text.Key(i).Length > 0 && lexicon.Phrases.TryMatch(text, i, out var match) && match.Length > 1)
            {
                lengths[i] = match.Length;
                for (var k = 1; k < match.Length; k++)
                {
                    lengths[i + k] = -1;
                }

                i += match.Length;
            }
            else
            {
                lengths[i++] = 0;
            }
        }
    }

    private double Valence(TokenizedText text, WordFacts[] facts, int i)
    {
        double baseValence;
        if (text.PhraseLengths[i] > 0)
        {
            lexicon.Phrases.TryMatch(text, i, out var phrase);
            baseValence = phrase.Value;
        }
        else if (facts[i].Is(WordKinds.Lexicon))
        {
            baseValence = facts[i].Valence;
        }
        else
        {
            return 0;
        }

        var valence = baseValence;
        if (text.WordIs(i, "no") && i != text.Count - 1 && facts[i + 1].Is(WordKinds.Lexicon))
        {
            // "no" directly before a sentiment word negates it instead of scoring on its own.
            valence = 0;
        }

        if (text.WordIs(i - 1, "no") || text.WordIs(i - 2, "no")
            || (text.WordIs(i - 3, "no") && (text.WordIs(i - 1, "or") || text.WordIs(i - 1, "nor"))))
        {
            valence = baseValence * NegationScalar;
        }

        if (text[i].IsAllCaps && text.IsCapDifferential)
        {
            valence += valence > 0 ? CapsIncrement : -CapsIncrement;
        }

        for (var distance = 0; distance < 3; distance++)
        {
            var j = i - (distance + 1);
            if (j < 0 || facts[j].Is(WordKinds.Lexicon))
            {
                continue;
            }

            var scalar = ScalarIncDec(text, facts[j], j, valence);
            scalar *= distance switch { 1 => 0.95, 2 => 0.9, _ => 1 };
            valence += scalar;
            valence = NegationCheck(text, facts, valence, distance, i);
        }

        valence = SpecialIdioms(text, facts, valence, i);
        return LeastCheck(text, facts, valence, i);
    }

    private static double ScalarIncDec(TokenizedText text, WordFacts facts, int index, double valence)
    {
        if (!facts.Is(WordKinds.Booster))
        {
            return 0;
        }

        var scalar = facts.BoosterScalar;

        if (valence < 0)
        {
            scalar = -scalar;
        }

        if (text[index].IsAllCaps && text.IsCapDifferential)
        {
            scalar += valence > 0 ? CapsIncrement : -CapsIncrement;
        }

        return scalar;
    }

    /// <summary>Whether token <paramref name="index"/> is a negation ("not", "never", any word with "n't").</summary>
    internal static bool IsNegation(TokenizedText text, int index)
    {
        var word = text.Word(index);
        return NegationTable.Contains(text[index].WordHash, word) || (text.HasApostrophe(index) && word.IndexOf("n't", StringComparison.Ordinal) >= 0);
    }

    private static double NegationCheck(TokenizedText text, WordFacts[] facts, double valence, int distance, int i)
    {
        static bool SoOrThis(TokenizedText t, int k) => t.WordIs(k, "so") || t.WordIs(k, "this");

        switch (distance)
        {
            case 0:
                return facts[i - 1].Is(WordKinds.Negation) ? valence * NegationScalar : valence;
            case 1:
                if (text.WordIs(i - 2, "never") && SoOrThis(text, i - 1))
                {
                    return valence * 1.25;
                }

                if (text.WordIs(i - 2, "without") && text.WordIs(i - 1, "doubt"))
                {
                    return valence;
                }

                return facts[i - 2].Is(WordKinds.Negation) ? valence * NegationScalar : valence;
            default:
                if (text.WordIs(i - 3, "never") && (SoOrThis(text, i - 2) || SoOrThis(text, i - 1)))
                {
                    return valence * 1.25;
                }

                if (text.WordIs(i - 3, "without") && (text.WordIs(i - 2, "doubt") || text.WordIs(i - 1, "doubt")))
                {
                    return valence;
                }

                return facts[i - 3].Is(WordKinds.Negation) ? valence * NegationScalar : valence;
        }
    }

    private static double SpecialIdioms(TokenizedText text, WordFacts[] facts, double valence, int i)
    {
        // The order of the windows is VADER's: the first preceding match wins, following ones override.
        ReadOnlySpan<(int Start, int Length)> preceding = [(i - 1, 2), (i - 2, 3), (i - 2, 2), (i - 3, 3), (i - 3, 2)];
        foreach (var (start, length) in preceding)
        {
            if (TryFind(text, facts, SpecialCases, start, length, out var special))
            {
                valence = special;
                break;
            }
        }

        if (TryFind(text, facts, SpecialCases, i, 2, out var following))
        {
            valence = following;
        }

        if (TryFind(text, facts, SpecialCases, i, 3, out following))
        {
            valence = following;
        }

        ReadOnlySpan<(int Start, int Length)> boosterWindows = [(i - 3, 3), (i - 3, 2), (i - 2, 2)];
        foreach (var (start, length) in boosterWindows)
        {
            if (TryFind(text, facts, PhraseBoosters, start, length, out var booster))
            {
                valence += booster;
            }
        }

        return valence;
    }

    private static bool TryFind(TokenizedText text, WordFacts[] facts, (string[] Words, double Valence)[] table, int start, int length, out double valence)
    {
        if (start >= 0 && start + length <= text.Count && facts[start].Is(WordKinds.IdiomStart))
        {
            foreach (var (words, value) in table)
            {
                if (words.Length == length && SequenceIs(text, start, words))
                {
                    valence = value;
                    return true;
                }
            }
        }

        valence = 0;
        return false;
    }

    private static bool SequenceIs(TokenizedText text, int start, string[] words)
    {
        for (var k = 0; k < words.Length; k++)
        {
            if (!text.Word(start + k).SequenceEqual(words[k]))
            {
                return false;
            }
        }

        return true;
    }

    private static double LeastCheck(TokenizedText text, WordFacts[] facts, double valence, int i)
    {
        if (i > 0 && text.WordIs(i - 1, "least") && !facts[i - 1].Is(WordKinds.Lexicon))
        {
            // "at least good" and "very least" keep their polarity; "least favourite" flips it.
            if (i == 1 || !(text.WordIs(i - 2, "at") || text.WordIs(i - 2, "very")))
            {
                return valence * NegationScalar;
            }
        }

        return valence;
    }

    private static void ApplyButRule(TokenizedText text, double[] sentiments)
    {
        for (var b = 0; b < text.Count; b++)
        {
            if (!text.WordIs(b, "but"))
            {
                continue;
            }

            for (var k = 0; k < text.Count; k++)
            {
                if (k != b)
                {
                    sentiments[k] *= k < b ? 0.5 : 1.5;
                }
            }

            return;
        }
    }

    private static PolarityScores Score(TokenizedText text, double[] sentiments)
    {
        if (text.Count == 0)
        {
            return default;
        }

        var sum = 0.0;
        double positive = 0, negative = 0;
        var neutral = 0;
        for (var k = 0; k < text.Count; k++)
        {
            var s = sentiments[k];
            sum += s;
            if (s > 0)
            {
                positive += s + 1;
            }
            else if (s < 0)
            {
                negative += s - 1;
            }
            else
            {
                neutral++;
            }
        }

        var exclamation = Math.Min(text.Exclamations, 4) * 0.292;
        var question = text.Questions switch { <= 1 => 0, <= 3 => text.Questions * 0.18, _ => 0.96 };
        var emphasis = exclamation + question;
        sum += Math.Sign(sum) * emphasis;

        if (positive > Math.Abs(negative))
        {
            positive += emphasis;
        }
        else if (positive < Math.Abs(negative))
        {
            negative -= emphasis;
        }

        var total = positive + Math.Abs(negative) + neutral;
        return new PolarityScores(Normalize(sum), Math.Abs(positive / total), Math.Abs(negative / total), Math.Abs(neutral / total));
    }

    private static IReadOnlyList<SentimentCue> Cues(TokenizedText text, double[] sentiments)
    {
        // Made at the first cue: many messages have no lexicon word.
        List<SentimentCue>? cues = null;
        for (var k = 0; k < text.Count; k++)
        {
            if (sentiments[k] == 0)
            {
                continue;
            }

            var last = k + Math.Max(text.PhraseLengths[k], 1) - 1;
            var start = text[k].SourceStart;
            (cues ??= new List<SentimentCue>(4)).Add(new SentimentCue(start, text[last].SourceStart + text[last].SourceLength - start, sentiments[k]));
        }

        if (cues is null)
        {
            return [];
        }

        cues.Sort(static (a, b) => Math.Abs(b.Valence).CompareTo(Math.Abs(a.Valence)) is var c and not 0 ? c : a.Start.CompareTo(b.Start));
        return cues;
    }

    private static List<ClauseScore> Clauses(TokenizedText text, WordFacts[] facts, double[] sentiments)
    {
        var clauses = new List<ClauseScore>(2);
        var first = 0;
        var sum = 0.0;
        for (var k = 0; k < text.Count; k++)
        {
            if (k > first && (text[k - 1].EndsClause || facts[k].Is(WordKinds.ClauseOpener)))
            {
                AddClause(text, clauses, first, k - 1, sum);
                first = k;
                sum = 0;
            }

            sum += sentiments[k];
        }

        if (text.Count > 0)
        {
            AddClause(text, clauses, first, text.Count - 1, sum);
        }

        return clauses;
    }

    private static void AddClause(TokenizedText text, List<ClauseScore> clauses, int first, int last, double sum)
    {
        var start = text[first].SourceStart;
        clauses.Add(new ClauseScore(start, text[last].SourceStart + text[last].SourceLength - start, Normalize(sum)));
    }
}
