using System.Buffers;
using System.Globalization;
using Feedback.Analysis.Local.Model;

namespace Feedback.Analysis.Local;

/// <summary>
/// The offline classifier behind <c>ml_fallback</c>: a linear model trained on the shared data sets over
/// word and character n-grams, VADER lexicon scores and per-clause scores, with the topic taxonomy's phrases
/// as a prior, and temperatures fitted on held-out rows. Thread-safe; create one and share it.
/// </summary>
public sealed class LocalClassifier : ILocalClassifier
{
    /// <summary>Bump whenever the model, a lexicon or a rule changes what any text is classified as.</summary>
    public const string CurrentVersion = "local-5";

    private const int ReasonTextLength = 60;
    private const int MaxClauses = 64;

    /// <summary>Share of the mixed probability kept when no clause praises anything beyond courtesy.</summary>
    private const double MixedWithoutPraiseKept = 0.2;

    private static readonly SentimentScores NoWords = new(0.1, 0.1, 0.7, 0.1);
    private static readonly TopicScores UniformTopics = new(Topic.BuiltIn, [.. Enumerable.Repeat(1.0 / TrainedModel.TopicCount, TrainedModel.TopicCount)]);

    private readonly FeaturePipeline pipeline;
    private readonly TrainedModel model;

    /// <summary>Uses the model and lexicons embedded in this assembly (loaded once per process, on first use).</summary>
    public LocalClassifier()
        : this(FeaturePipeline.Default, TrainedModel.Default)
    {
    }

    internal LocalClassifier(FeaturePipeline pipeline, TrainedModel model)
    {
        this.pipeline = pipeline;
        this.model = model;
    }

    public string Version => CurrentVersion;

    public Classification Classify(string text) => Classify(text, explain: true);

    public Classification ClassifyWithoutReasons(string text) => Classify(text, explain: false);

    private Classification Classify(string text, bool explain)
    {
        ArgumentNullException.ThrowIfNull(text);

        // Long messages (support e-mails) are also read sentence by sentence, before the whole text: the
        // per-thread buffers hold one message at a time.
        Span<double> bySentence = stackalloc double[TrainedModel.SentimentCount];
        var sentences = text.Length >= LongMessage ? SentenceAverage(text, bySentence) : 0;
        var analysed = pipeline.Run(text, model.Clauses);
        var features = analysed.Features;
        var isForeign = analysed.Language is not LanguageDetector.English and not LanguageDetector.Undetermined;

        Span<double> sentimentLogits = stackalloc double[TrainedModel.SentimentCount];
        Span<double> topicLogits = stackalloc double[TrainedModel.TopicCount];
        model.Logits(features, sentimentLogits, topicLogits);
        Probabilities.Softmax(sentimentLogits, model.SentimentTemperature);
        if (sentences >= 2)
        {
            for (var c = 0; c < sentimentLogits.Length; c++)
            {
                sentimentLogits[c] = ((1 - SentenceShare) * sentimentLogits[c]) + (SentenceShare * bySentence[c]);
            }
        }

        var scores = analysed.Tokens.Count == 0
            ? NoWords
            : new SentimentScores(sentimentLogits[0], sentimentLogits[1], sentimentLogits[2], sentimentLogits[3]);

        Probabilities.Softmax(topicLogits, model.TopicTemperature);
        var topic = analysed.Tokens.Count == 0 ? Topic.General : Topic.BuiltIn[Probabilities.Argmax(topicLogits)];
        var topicConfidence = analysed.Tokens.Count == 0 ? 0.5 : model.TopicConfidence(topicLogits[topic.BuiltInIndex]);

        if (scores.Top() == Sentiment.Mixed && !HasPraiseClause(analysed))
        {
            // Mixed needs real praise somewhere; "Thanks for the app." before a bug report is manners.
            var rest = 1 - (scores.Mixed * (1 - MixedWithoutPraiseKept));
            scores = new SentimentScores(scores.Positive / rest, scores.Negative / rest, scores.Neutral / rest, scores.Mixed * MixedWithoutPraiseKept / rest);
        }

        if (isForeign)
        {
            scores = SentimentModel.Cap(scores, SentimentModel.ForeignLanguageCeiling);
            topicConfidence = Math.Min(topicConfidence, SentimentModel.ForeignLanguageCeiling);
        }

        var sentiment = scores.Top();
        IReadOnlyList<string> reasons = explain ? Reasons(analysed, sentiment, scores, topic, topicConfidence, isForeign) : [];
        return new Classification(sentiment, topic, scores[sentiment], scores, analysed.Language, reasons)
        {
            TopicConfidence = topicConfidence,
            TopicScores = analysed.Tokens.Count == 0 ? UniformTopics : new TopicScores(Topic.BuiltIn, topicLogits.ToArray()),
        };
    }

    /// <summary>Messages at least this long are also scored sentence by sentence.</summary>
    private const int LongMessage = 200;

    /// <summary>The sentences' mean probabilities count this much against the whole text's.</summary>
    private const double SentenceShare = 0.5;

    /// <summary>
    /// The sentiment of the message's sentences that say something (more than three words and not only
    /// greetings or thanks), pooled; returns how many sentences were read.
    /// </summary>
    private int SentenceAverage(string text, Span<double> average)
    {
        average.Clear();

        // The average counts only when two or more sentences of over three words are read, so they are counted
        // first (a word is what the tokenizer makes a token: a run of non-space characters) and no sentence is
        // analysed when too few are left to reach two: a long message of one sentence is read once, not twice.
        var left = 0;
        for (var (start, end) = (0, NextSentenceEnd(text, 0)); start < text.Length; (start, end) = (end, NextSentenceEnd(text, end)))
        {
            left += HasMoreThanThreeWords(text, start, end) ? 1 : 0;
        }

        if (left < 2)
        {
            return 0;
        }

        Span<double> sentiment = stackalloc double[TrainedModel.SentimentCount];
        Span<double> topic = stackalloc double[TrainedModel.TopicCount];
        var count = 0;
        for (var (start, end) = (0, NextSentenceEnd(text, 0)); start < text.Length; (start, end) = (end, NextSentenceEnd(text, end)))
        {
            if (!HasMoreThanThreeWords(text, start, end))
            {
                continue;
            }

            // Even if this and every later sentence counted, fewer than two would.
            if (count + left < 2)
            {
                return 0;
            }

            left--;

            var analysed = pipeline.Run(text[start..end], model.Clauses, detectLanguage: false);
            var tokens = analysed.Tokens;
            if (FeatureExtractor.IsCourtesy(analysed.Features, 0, tokens.Count - 1))
            {
                continue;
            }

            model.Logits(analysed.Features, sentiment, topic);
            Probabilities.Softmax(sentiment, model.SentimentTemperature);
            for (var c = 0; c < average.Length; c++)
            {
                var polar = c is (int)Sentiment.Positive or (int)Sentiment.Negative;
                average[c] = polar ? Math.Max(average[c], sentiment[c]) : average[c] + sentiment[c];
            }

            count++;
        }

        if (count == 0)
        {
            return 0;
        }

        // Positive and negative: the strongest sentence (one clear complaint makes a support e-mail negative,
        // however many neutral sentences of context surround it); neutral and mixed: the mean.
        var sum = 0.0;
        for (var c = 0; c < average.Length; c++)
        {
            average[c] = c is (int)Sentiment.Positive or (int)Sentiment.Negative ? average[c] : average[c] / count;
            sum += average[c];
        }

        for (var c = 0; c < average.Length; c++)
        {
            average[c] /= sum;
        }

        return count;
    }

    /// <summary>Where the sentence from <paramref name="start"/> ends: after a '.', '!', '?' or line break that is followed by a space or the end.</summary>
    private static int NextSentenceEnd(string text, int start)
    {
        for (var i = start; i < text.Length; i++)
        {
            var mark = text.AsSpan(i).IndexOfAny(SentenceMarks);
            if (mark < 0)
            {
                break;
            }

            i += mark;
            if (i + 1 == text.Length || char.IsWhiteSpace(text[i + 1]))
            {
                return i + 1;
            }
        }

        return text.Length;
    }

    private static readonly SearchValues<char> SentenceMarks = SearchValues.Create(".!?\n");

    /// <summary>Whether <paramref name="text"/>[start..end] has more than three runs of non-space characters, its tokens.</summary>
    private static bool HasMoreThanThreeWords(string text, int start, int end)
    {
        var words = 0;
        var inWord = false;
        for (var i = start; i < end && words <= 3; i++)
        {
            var isSpace = char.IsWhiteSpace(text[i]);
            words += !isSpace && !inWord ? 1 : 0;
            inWord = !isSpace;
        }

        return words > 3;
    }

    private bool HasPraiseClause(AnalysedText analysed)
    {
        var features = analysed.Features;
        Span<float> clauseScores = stackalloc float[Math.Min(features.ClauseCount, MaxClauses)];
        model.Clauses.ScoreClauses(features, clauseScores);
        for (var c = 0; c < clauseScores.Length; c++)
        {
            if (clauseScores[c] > 0 && !FeatureExtractor.IsCourtesy(features, features.ClauseFirstToken(c), features.ClauseLastToken(c)))
            {
                return true;
            }
        }

        return false;
    }

    private List<string> Reasons(AnalysedText analysed, Sentiment sentiment, SentimentScores scores, Topic topic, double topicConfidence, bool isForeign)
    {
        var tokens = analysed.Tokens;
        var reasons = new List<string>(6);
        var summary = string.Create(CultureInfo.InvariantCulture, $"{WireNames.Of(sentiment)} p={scores[sentiment]:0.00} (lexicon compound {analysed.Evidence.Overall.Compound:+0.00;-0.00;0})");
        var features = analysed.Features;
        if (sentiment == Sentiment.Mixed && features.ClauseCount > 1)
        {
            Span<float> clauseScores = stackalloc float[Math.Min(features.ClauseCount, MaxClauses)];
            model.Clauses.ScoreClauses(features, clauseScores);
            int praise = 0, complaint = 0;
            for (var c = 1; c < clauseScores.Length; c++)
            {
                praise = clauseScores[c] > clauseScores[praise] ? c : praise;
                complaint = clauseScores[c] < clauseScores[complaint] ? c : complaint;
            }

            reasons.Add(summary + ": praise and complaint in separate clauses");
            reasons.Add(ClauseReason(tokens, features, praise, clauseScores[praise]));
            reasons.Add(ClauseReason(tokens, features, complaint, clauseScores[complaint]));
        }
        else
        {
            reasons.Add(summary);
        }

        var cues = analysed.Evidence.Cues.Take(3)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"\"{Excerpt(tokens.Source, c.Start, c.Length)}\" {c.Valence:+0.0;-0.0}"))
            .ToList();
        var learned = LearnedWords(tokens, features, model.SentimentRow, (int)sentiment);
        reasons.Add((cues.Count == 0 ? "words: no lexicon words" : "words: " + string.Join(", ", cues))
            + (learned.Length == 0 ? "" : $"; model leans {WireNames.Of(sentiment)} on {learned}"));

        var matches = analysed.Taxonomy.Matches;
        var topicWords = LearnedWords(tokens, features, model.TopicRow, topic.BuiltInIndex);
        var head = string.Create(CultureInfo.InvariantCulture, $"topic {WireNames.Of(topic)} p={topicConfidence:0.00}: ");
        var phrases = matches.Count == 0
            ? "no taxonomy phrase"
            : string.Join(", ", matches.Take(4).Select(m => string.Create(CultureInfo.InvariantCulture, $"{WireNames.Of(m.Topic)} \"{m.Phrase}\" +{m.Weight:0.0}")));
        reasons.Add(head + phrases + (topicWords.Length == 0 ? "" : $"; learned words {topicWords}"));

        if (isForeign)
        {
            reasons.Add($"language {analysed.Language}: the model was trained on English, confidence capped low");
        }

        return reasons;
    }

    /// <summary>The (at most three) words whose learned weights pushed hardest towards <paramref name="chosen"/> over the other classes.</summary>
    private static string LearnedWords(TokenizedText tokens, FeatureVector features, RowOf weights, int chosen)
    {
        Span<(float Push, int Token)> best = stackalloc (float, int)[3];
        best.Fill((0, -1));
        var indices = features.WordIndices;
        var at = features.WordTokens;
        for (var k = 0; k < indices.Length; k++)
        {
            var row = weights(indices[k]);
            var others = 0f;
            for (var c = 0; c < row.Length; c++)
            {
                others = c == chosen ? others : Math.Max(others, row[c]);
            }

            var push = row[chosen] - others;
            var token = at[k];
            if (push <= best[^1].Push || Contains(best, token))
            {
                continue;
            }

            best[^1] = (push, token);
            best.Sort(static (a, b) => b.Push.CompareTo(a.Push));
        }

        var words = new List<string>(3);
        foreach (var (push, token) in best)
        {
            if (token >= 0 && push > 0.5f)
            {
                ref readonly var t = ref tokens[token];
                words.Add($"\"{Excerpt(tokens.Source, t.SourceStart, t.SourceLength)}\"");
            }
        }

        return string.Join(", ", words);
    }

    private delegate ReadOnlySpan<float> RowOf(int feature);

    private static bool Contains(Span<(float Push, int Token)> best, int token)
    {
        foreach (var entry in best)
        {
            if (entry.Token == token)
            {
                return true;
            }
        }

        return false;
    }

    private static string ClauseReason(TokenizedText tokens, FeatureVector features, int clause, float score)
    {
        ref readonly var first = ref tokens[features.ClauseFirstToken(clause)];
        ref readonly var last = ref tokens[features.ClauseLastToken(clause)];
        var start = first.SourceStart;
        return string.Create(CultureInfo.InvariantCulture, $"clause \"{Excerpt(tokens.Source, start, last.SourceStart + last.SourceLength - start)}\" {score:+0.0;-0.0;0}");
    }

    private static string Excerpt(string text, int start, int length) =>
        length <= ReasonTextLength ? text.Substring(start, length) : string.Concat(text.AsSpan(start, ReasonTextLength - 1), "…");
}
