using System.Text;

namespace Feedback.Analysis.Deep;

/// <summary>
/// The in-domain rows' own vocabulary, for what all-MiniLM-L6-v2 cannot read: it is an English model, so a German
/// "doppelt abgebucht" or a Dutch "crasht" comes out as word pieces with little meaning. A multinomial naive Bayes over
/// hashed word unigrams, bigrams and character 3- to 5-grams (present or not) learns those words from the labelled
/// rows of every language in the set, and its per-class log-probabilities are inputs of the heads beside the sentence
/// vector. Naive Bayes because it is counting: trained in milliseconds, the same bit for bit, and cheap to cross-fit.
/// Immutable; shared by all threads.
/// </summary>
public sealed class NgramModel
{
    /// <summary>Log-probabilities are floored here (as the lexical ones), so one long message cannot dominate.</summary>
    internal const double LogFloor = -7;

    private const uint Seed = 2166136261;

    /// <param name="bits">The hash table has 2^bits buckets.</param>
    internal NgramModel(int bits, NgramTable sentiment, NgramTable topic, NgramTable action)
    {
        if (bits is < 8 or > 24 || sentiment.Offset.Length != (sentiment.Classes << bits) || topic.Offset.Length != (topic.Classes << bits)
            || action.Offset.Length != (action.Classes << bits))
        {
            throw new ArgumentException("the tables must hold [bucket * classes + class] for 2^bits buckets", nameof(bits));
        }

        Bits = bits;
        Sentiment = sentiment;
        Topic = topic;
        Action = action;
    }

    public int Bits { get; }

    public int TopicCount => Topic.Classes;

    internal NgramTable Sentiment { get; }

    internal NgramTable Topic { get; }

    /// <summary>Whether a person must act (no, yes): the words of refunds, outages and cancellations in every language.</summary>
    internal NgramTable Action { get; }

    /// <summary>The hashed features of a message: distinct buckets, ascending.</summary>
    public static int[] Features(string text, int bits)
    {
        ArgumentNullException.ThrowIfNull(text);
        var mask = (1 << bits) - 1;
        var found = new HashSet<int>();
        var lower = Accents.Strip(text.ToLowerInvariant());
        var word = new StringBuilder();
        string? previous = null;
        void EndWord()
        {
            if (word.Length == 0)
            {
                return;
            }

            var w = word.ToString();
            word.Clear();
            found.Add(Hash(1, w) & mask);
            if (previous is not null)
            {
                found.Add(Hash(2, previous + " " + w) & mask);
            }

            previous = w;
            var padded = "<" + w + ">";
            for (var n = 3; n <= 5; n++)
            {
                for (var i = 0; i + n <= padded.Length; i++)
                {
                    found.Add(Hash(n, padded.AsSpan(i, n)) & mask);
                }
            }
        }

        foreach (var c in lower)
        {
            if (char.IsLetterOrDigit(c))
            {
                word.Append(c);
                continue;
            }

            EndWord();
            if (!char.IsWhiteSpace(c))
            {
                // Punctuation and emoji: "?" leans neutral, "!!!" and a frowning face do not.
                found.Add(Hash(6, new ReadOnlySpan<char>(in c)) & mask);
            }
        }

        EndWord();
        var features = found.ToArray();
        Array.Sort(features);
        return features;
    }

    /// <summary>Each class's log-probability for these features (the classes' scores, damped by length, normalised, floored).</summary>
    internal static double[] LogProbabilities(NgramTable table, ReadOnlySpan<int> features)
    {
        var classes = table.Classes;
        var scores = new double[classes];
        for (var c = 0; c < classes; c++)
        {
            scores[c] = features.Length * (double)table.Base[c];
        }

        foreach (var f in features)
        {
            var row = table.Offset.AsSpan(f * classes, classes);
            for (var c = 0; c < classes; c++)
            {
                scores[c] += (double)row[c];
            }
        }

        // Naive Bayes adds every feature's evidence as if each were independent, but a message's n-grams overlap (a word,
        // its bigrams and its character n-grams), so the raw sums grow with length and are sure of themselves on any
        // long text, including text unlike the rows (tweets, film reviews). Divided by the square root of the feature
        // count, held-out public sets lost less (binary average 0.800 -> 0.823, TweetEval 0.489 -> 0.524) and the
        // in-domain figures held (bench/RESULTS.md, "Notes: session 11").
        var damping = Math.Sqrt(Math.Max(1, features.Length));
        for (var c = 0; c < classes; c++)
        {
            scores[c] /= damping;
        }

        var max = double.NegativeInfinity;
        foreach (var s in scores)
        {
            max = Math.Max(max, s);
        }

        var sum = 0.0;
        foreach (var s in scores)
        {
            sum += Math.Exp(s - max);
        }

        var log = max + Math.Log(sum);
        for (var c = 0; c < classes; c++)
        {
            scores[c] = Math.Max(scores[c] - log, LogFloor);
        }

        return scores;
    }

    public (double[] Sentiment, double[] Topic, double[] Action) Read(string text)
    {
        var features = Features(text, Bits);
        return (LogProbabilities(Sentiment, features), LogProbabilities(Topic, features), LogProbabilities(Action, features));
    }

    /// <summary>
    /// Multinomial naive Bayes over binary features with add-<paramref name="alpha"/> smoothing and even priors (the head
    /// that reads these scores has its own bias). Rows whose label is negative do not count for that task.
    /// </summary>
    internal static NgramTable Fit(IReadOnlyList<(int[] Features, int Label, double Weight)> rows, int classes, int bits, double alpha)
    {
        var buckets = 1 << bits;
        var counts = new double[classes * buckets];
        var totals = new double[classes];
        foreach (var (features, label, weight) in rows)
        {
            if (label < 0)
            {
                continue;
            }

            foreach (var f in features)
            {
                counts[(f * classes) + label] += weight;
            }

            totals[label] += weight * features.Length;
        }

        // Stored as each class's log-likelihood of an unseen bucket (the lowest) plus a 16-bit offset above it: half the
        // size, an empty bucket is exactly zero (the file compresses well), and the rounding (under 0.4 % of an offset)
        // is far below what separates the classes.
        var floor = new float[classes];
        var offsets = new Half[counts.Length];
        for (var c = 0; c < classes; c++)
        {
            var denominator = Math.Log(totals[c] + (alpha * buckets));
            floor[c] = (float)(Math.Log(alpha) - denominator);
            for (var f = 0; f < buckets; f++)
            {
                offsets[(f * classes) + c] = (Half)(Math.Log(counts[(f * classes) + c] + alpha) - Math.Log(alpha));
            }
        }

        return new NgramTable(classes, floor, offsets);
    }

    private static int Hash(int kind, ReadOnlySpan<char> text)
    {
        var hash = Seed ^ (uint)kind;
        hash *= 16777619;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        // FNV's low bits mix poorly: fold the high half in before the mask takes the low bits.
        return (int)(hash ^ (hash >> 15));
    }

    private static int Hash(int kind, string text) => Hash(kind, text.AsSpan());
}

/// <summary>One naive Bayes table: per class the log-likelihood of a bucket no row had, and per bucket and class how much more.</summary>
/// <param name="Offset">Laid out [bucket * classes + class].</param>
internal sealed record NgramTable(int Classes, float[] Base, Half[] Offset);
