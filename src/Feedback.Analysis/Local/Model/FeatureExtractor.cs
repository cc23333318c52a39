namespace Feedback.Analysis.Local.Model;

/// <summary>Where each kind of feature lives in the weight vectors.</summary>
internal static class FeatureLayout
{
    public const int HashBits = 18;
    public const int HashedCount = 1 << HashBits;
    public const int DenseCount = 32;
    public const int Count = HashedCount + DenseCount;

    // Dense slots: lexicon (VADER) scores, clause-model scores, cues, length, taxonomy scores.
    public const int Bias = 0;
    public const int Compound = 1;
    public const int VaderPositive = 2;
    public const int VaderNegative = 3;
    public const int VaderPraise = 4;
    public const int VaderComplaint = 5;
    public const int VaderBoth = 6;
    public const int ClauseMax = 7;
    public const int ClauseMin = 8;
    public const int ClauseBoth = 9;
    public const int ClauseBothWithContrast = 10;
    public const int PositiveClauses = 11;
    public const int NegativeClauses = 12;
    public const int Contrast = 13;
    public const int Request = 14;
    public const int Question = 15;
    public const int Exclamation = 16;
    public const int Length = 17;
    public const int Long = 18;
    public const int TaxonomyFirst = 19; // bug, feature_request, billing, performance, ux
    public const int Clauses = 24;
    public const int VaderBothWithContrast = 25;
    public const int RequestWithoutComplaint = 26;

    /// <summary>Topics whose taxonomy phrase scores become features, in slot order from <see cref="TaxonomyFirst"/>.</summary>
    public static readonly Topic[] TaxonomyTopics = [Topic.Bug, Topic.FeatureRequest, Topic.Billing, Topic.Performance, Topic.Ux];
}

/// <summary>What the feature extractor's word lists say about one token, from one look-up of its key.</summary>
[Flags]
internal enum TokenKinds : byte
{
    None = 0,
    ClauseOpener = 1,
    Contrast = 2,

    /// <summary>A word of greetings and thanks, or a token with no key (only apostrophes), which no clause counts.</summary>
    Courtesy = 4,

    /// <summary>A word that says a problem is over (<see cref="ProductCues"/>).</summary>
    Resolved = 8,

    /// <summary>The key "no", which negates a problem cue and opens "no more".</summary>
    No = 16,

    /// <summary>A negation by VADER's rules (<see cref="Vader.IsNegation"/>), which looks at the word, apostrophes kept.</summary>
    Negation = 32,

    /// <summary>The first word of a polite request phrase ("please add", "would be great").</summary>
    RequestStart = 64,

    /// <summary>The first word of a problem phrase (<see cref="ProductCues"/>) other than a one-word prefix such as "crash*".</summary>
    ProblemStart = 128,
}

/// <summary>
/// Turns tokenised text into the model's features: word unigrams and bigrams with negation scope marked
/// ("not good" is the feature NOT_good), character 3-5-grams, and dense lexicon features. Each n-gram
/// family is scaled by 1/sqrt(its count) so long e-mails and short tweets sit on the same scale.
/// Stateless; the output goes into the caller's thread's <see cref="FeatureVector"/>.
/// </summary>
internal static class FeatureExtractor
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;
    private const char UnigramSpace = 'u';
    private const char NegatedSpace = 'n';
    private const char BigramSpace = 'b';
    private const char CharSpace = 'c';
    private const int MaxCharText = 2048;
    private const int CharGram = 4;

    /// <summary>
    /// Clause-model log-odds above which a clause is praise for the cue priors: higher than the +1 the clause
    /// counts use, because "Chrome works" after a failure report is context, not praise.
    /// </summary>
    private const float PraiseClause = 2f;

    /// <summary>Words that open a new clause: where praise turns into complaint and back.</summary>
    private static readonly HashSet<string> ClauseOpeners = new(StringComparer.Ordinal)
    {
        "but", "however", "although", "though", "yet", "while", "whereas", "except", "unfortunately", "sadly",
        "nevertheless", "nonetheless", "otherwise", "still",
        // "but" in the other languages customers write in most: a short mixed message there is still two clauses.
        "pero", "aber", "mais",
    };

    private static readonly HashSet<string> ContrastWords = new(StringComparer.Ordinal)
    {
        "but", "however", "although", "though", "yet", "whereas", "except", "unfortunately", "sadly",
        "nevertheless", "nonetheless", "downside", "only", "pero", "aber", "mais",
    };

    /// <summary>Words of greetings and thanks: a clause made only of these is courtesy, not praise.</summary>
    private static readonly HashSet<string> CourtesyWords = new(StringComparer.Ordinal)
    {
        "thanks", "thank", "thx", "you", "for", "the", "your", "this", "app", "product", "tool", "service", "hi", "hello",
        "hey", "team", "dear", "support", "regards", "best", "kind", "cheers", "in", "advance", "so", "much", "a", "lot",
        "again", "guys", "all", "everyone", "and", "please", "many", "sincerely",
        // Openings of support e-mails: "Hi there, I hope you are well", "Good morning folks", "First of all".
        "i", "hope", "are", "well", "doing", "morning", "afternoon", "evening", "there", "folks", "first", "of",
        // Thanks for the exchange itself: "Thanks for the quick reply yesterday", "thank you for getting back to me".
        "quick", "reply", "response", "help", "time", "getting", "back", "me", "yesterday",
    };

    /// <summary>How people ask for something politely; a request is not a complaint.</summary>
    private static readonly PhraseTable<int> RequestPhrases = new(new[]
    {
        "please add", "please make", "please consider", "please bring", "please allow", "please let", "please include",
        "please give", "please support", "please implement", "please provide", "would be great", "would be nice",
        "would be awesome", "would be helpful", "would be useful", "would be cool", "would be lovely", "would love",
        "id love", "i wish", "wish there", "wish it", "wish you", "wish i could", "could you add", "can you add",
        "could you please", "can you please", "could you make", "can you make", "you should add", "should add",
        "add an option", "add a feature", "add the ability", "add support", "feature request", "it would help",
        "would appreciate", "hope you add", "hope you will add", "suggestion", "i suggest", "consider adding",
        "is there any way", "is there a way", "any chance", "would it be possible", "it would be", "need an option",
        "option to", "ability to",
    }.Select(p => new KeyValuePair<string, int>(p, 1)));

    /// <summary>
    /// The word lists above, <see cref="ProductCues.Resolved"/>, VADER's negations without an apostrophe and the first words
    /// of the request and problem phrases in one table: each token's key is looked up once per message instead of once per
    /// list and per pass over the clauses.
    /// </summary>
    private static readonly WordTable<TokenKinds> KindTable = BuildKindTable();

    [ThreadStatic]
    private static char[]? charBuffer;

    /// <param name="taxonomy">Phrase scores per topic in <see cref="FeatureLayout.TaxonomyTopics"/> order.</param>
    /// <param name="clauses">Scores clauses for the clause features; null leaves them out (training the clause model itself).</param>
    public static FeatureVector Extract(TokenizedText text, SentimentEvidence evidence, ReadOnlySpan<float> taxonomy, ClauseModel? clauses)
    {
        var vector = FeatureVector.ForThisThread();
        vector.Clear();
        var kinds = vector.KindsFor(text.Count);
        for (var i = 0; i < kinds.Length; i++)
        {
            kinds[i] = KindOf(text, i);
        }

        AddWords(text, vector);
        AddCharacters(text, vector);

        var dense = vector.Dense;
        dense[FeatureLayout.Bias] = 1;
        dense[FeatureLayout.Compound] = (float)evidence.Overall.Compound;
        dense[FeatureLayout.VaderPositive] = (float)evidence.Overall.Positive;
        dense[FeatureLayout.VaderNegative] = (float)evidence.Overall.Negative;
        var praise = (float)evidence.StrongestPraise;
        var complaint = (float)evidence.StrongestComplaint;
        dense[FeatureLayout.VaderPraise] = praise;
        dense[FeatureLayout.VaderComplaint] = complaint;
        dense[FeatureLayout.VaderBoth] = Math.Min(praise, complaint);

        var contrast = false;
        for (var i = 0; i < kinds.Length && !contrast; i++)
        {
            contrast = (kinds[i] & TokenKinds.Contrast) != TokenKinds.None;
        }

        var request = false;
        var requestClauses = 0UL;
        for (var i = 0; i < text.Count; i++)
        {
            // Request phrases have no one-word prefixes, so only a token that starts one can match.
            if ((kinds[i] & TokenKinds.RequestStart) != TokenKinds.None && RequestPhrases.TryMatch(text, i, out _))
            {
                request = true;
                var clause = ProductCues.ClauseOf(vector, i);
                requestClauses |= clause < 64 ? 1UL << clause : 0;
            }
        }

        var problems = ProductCues.FindProblems(text, vector, out var problemClauses);
        vector.Priors = new CuePriors(problems, false, false);

        dense[FeatureLayout.Contrast] = contrast ? 1 : 0;
        dense[FeatureLayout.VaderBothWithContrast] = contrast ? Math.Min(praise, complaint) : 0;
        dense[FeatureLayout.Request] = request ? 1 : 0;
        dense[FeatureLayout.RequestWithoutComplaint] = request && complaint < 0.3 ? 1 : 0;
        dense[FeatureLayout.Question] = text.Questions > 0 ? 1 : 0;
        dense[FeatureLayout.Exclamation] = text.Exclamations > 0 ? 1 : 0;
        dense[FeatureLayout.Length] = MathF.Log(1 + text.Count) / 4;
        dense[FeatureLayout.Long] = text.Count > 60 ? 1 : 0;
        dense[FeatureLayout.Clauses] = MathF.Log(vector.ClauseCount + 1) / 2;
        for (var t = 0; t < FeatureLayout.TaxonomyTopics.Length; t++)
        {
            dense[FeatureLayout.TaxonomyFirst + t] = Math.Clamp(taxonomy[t], 0, 6) / 3;
        }

        if (clauses is not null)
        {
            AddClauseFeatures(text, vector, clauses, contrast, problemClauses | requestClauses, problemClauses != 0, request);
        }

        vector.AppendDense();
        return vector;
    }

    /// <summary>The word features of the whole text, as the clause model is trained on them.</summary>
    public static (int[] Indices, float[] Values) WholeTextWords(FeatureVector vector)
    {
        var indices = vector.WordIndices.ToArray();
        var value = indices.Length == 0 ? 0 : 1 / MathF.Sqrt(indices.Length);
        return (indices, Enumerable.Repeat(value, indices.Length).ToArray());
    }

    /// <param name="notPraise">Clauses whose positive score is not praise: they report a problem or ask for something.</param>
    private static void AddClauseFeatures(TokenizedText text, FeatureVector vector, ClauseModel model, bool contrast, ulong notPraise, bool problem, bool request)
    {
        Span<float> scores = stackalloc float[Math.Min(vector.ClauseCount, 64)];
        model.ScoreClauses(vector, scores);
        float max = float.MinValue, min = float.MaxValue;
        int positive = 0, negative = 0;
        var praise = false;
        for (var c = 0; c < scores.Length; c++)
        {
            // "Thanks for the app." before a bug report is manners, not a second opinion.
            var s = IsCourtesy(vector, vector.ClauseFirstToken(c), vector.ClauseLastToken(c)) ? Math.Min(scores[c], 0) : scores[c];
            max = Math.Max(max, s);
            min = Math.Min(min, s);
            positive += s > 1 ? 1 : 0;
            negative += s < -1 ? 1 : 0;
            praise |= s > PraiseClause && (notPraise & (1UL << c)) == 0;
        }

        if (scores.Length == 0)
        {
            return;
        }

        vector.Priors = vector.Priors with
        {
            PraiseAndComplaint = praise && (problem || negative > 0),
            RequestWithoutPraise = request && !praise,
        };

        var dense = vector.Dense;
        var both = Math.Min(Math.Max(max, 0), Math.Max(-min, 0));
        dense[FeatureLayout.ClauseMax] = Math.Clamp(max, -4, 4) / 4;
        dense[FeatureLayout.ClauseMin] = Math.Clamp(min, -4, 4) / 4;
        dense[FeatureLayout.ClauseBoth] = Math.Min(both, 4) / 4;
        dense[FeatureLayout.ClauseBothWithContrast] = contrast ? Math.Min(both, 4) / 4 : 0;
        dense[FeatureLayout.PositiveClauses] = Math.Min(positive, 3) / 3f;
        dense[FeatureLayout.NegativeClauses] = Math.Min(negative, 3) / 3f;
    }

    /// <summary>Whether tokens <paramref name="first"/> to <paramref name="last"/> of the message <paramref name="vector"/> was extracted from are only greetings and thanks.</summary>
    public static bool IsCourtesy(FeatureVector vector, int first, int last)
    {
        for (var i = first; i <= last; i++)
        {
            if ((vector.KindsOf(i) & TokenKinds.Courtesy) == TokenKinds.None)
            {
                return false;
            }
        }

        return true;
    }

    private static TokenKinds KindOf(TokenizedText text, int i)
    {
        var key = text.Key(i);
        var kinds = key.Length == 0 ? TokenKinds.Courtesy : KindTable.TryGetValue(text[i].KeyHash, key, out var known) ? known : TokenKinds.None;
        if (!text.HasApostrophe(i))
        {
            // The word is its own key, so the table's negations settle it.
            return kinds;
        }

        // VADER reads negations on the word, apostrophes kept ("don't", any "n't"): "do'nt" has the key "dont" but is none.
        return Vader.IsNegation(text, i) ? kinds | TokenKinds.Negation : kinds & ~TokenKinds.Negation;
    }

    private static WordTable<TokenKinds> BuildKindTable()
    {
        var kinds = new Dictionary<string, TokenKinds>(StringComparer.Ordinal);
        void Mark(IEnumerable<string> words, TokenKinds kind)
        {
            foreach (var word in words)
            {
                kinds[word] = kinds.GetValueOrDefault(word) | kind;
            }
        }

        Mark(ClauseOpeners, TokenKinds.ClauseOpener);
        Mark(ContrastWords, TokenKinds.Contrast);
        Mark(CourtesyWords, TokenKinds.Courtesy);
        Mark(ProductCues.Resolved, TokenKinds.Resolved);
        Mark(["no"], TokenKinds.No);
        Mark(Vader.Negations.Where(w => !w.Contains('\'', StringComparison.Ordinal)), TokenKinds.Negation);
        Mark(RequestPhrases.FirstWords, TokenKinds.RequestStart);
        Mark(ProductCues.ProblemFirstWords, TokenKinds.ProblemStart);
        return new WordTable<TokenKinds>(kinds);
    }

    private static void AddWords(TokenizedText text, FeatureVector vector)
    {
        var unigramsFrom = vector.Count;
        var clause = 0;
        var clauseStart = 0;
        var negated = false;
        var previous = 0UL;
        var hasPrevious = false;
        for (var i = 0; i < text.Count; i++)
        {
            var key = text.Key(i);
            if (i > clauseStart && (text[i - 1].EndsClause || (vector.KindsOf(i) & TokenKinds.ClauseOpener) != TokenKinds.None))
            {
                vector.AddClause(clauseStart, i - 1);
                clause++;
                clauseStart = i;
                negated = false;
                hasPrevious = false;
            }

            if (key.Length == 0)
            {
                continue;
            }

            var word = Hash(UnigramSpace, key);
            var unigram = negated ? Hash(NegatedSpace, key) : word;
            vector.Add(Index(unigram), 1);
            vector.AddWord(Index(unigram), i, clause);
            if (hasPrevious)
            {
                var bigram = Mix(Mix(Mix(FnvOffset, BigramSpace), previous), word);
                vector.Add(Index(bigram), 1);
                vector.AddWord(Index(bigram), i, clause);
            }

            previous = word;
            hasPrevious = true;
            if ((vector.KindsOf(i) & TokenKinds.Negation) != TokenKinds.None)
            {
                negated = true;
            }
        }

        if (text.Count > 0)
        {
            vector.AddClause(clauseStart, text.Count - 1);
        }

        var words = vector.Count - unigramsFrom;
        if (words > 0)
        {
            vector.Scale(unigramsFrom, 1 / MathF.Sqrt(words));
        }
    }

    private static void AddCharacters(TokenizedText text, FeatureVector vector)
    {
        var buffer = charBuffer ??= new char[MaxCharText + 64];
        var length = 0;
        buffer[length++] = ' ';
        for (var i = 0; i < text.Count && length < MaxCharText; i++)
        {
            var key = text.Key(i);
            if (key.Length == 0 || key.Length > 40)
            {
                continue;
            }

            key.CopyTo(buffer.AsSpan(length));
            length += key.Length;
            buffer[length++] = ' ';
        }

        // Every n-gram counts 1, scaled by 1/sqrt(their number): that is the value of each, known before the loop.
        var grams = length - CharGram + 1;
        if (grams <= 0)
        {
            return;
        }

        var indices = vector.AddRange(grams, 1 / MathF.Sqrt(grams));
        var joined = buffer.AsSpan(0, length);
        for (var start = 0; start < indices.Length; start++)
        {
            var hash = Mix(FnvOffset, CharSpace);
            foreach (var c in joined.Slice(start, CharGram))
            {
                hash = Mix(hash, c);
            }

            indices[start] = Index(hash);
        }
    }

    private static ulong Hash(char space, ReadOnlySpan<char> text)
    {
        var hash = (FnvOffset ^ space) * FnvPrime;
        foreach (var c in text)
        {
            hash = (hash ^ c) * FnvPrime;
        }

        return hash;
    }

    private static ulong Mix(ulong hash, ulong value) => (hash ^ value) * FnvPrime;

    private static ulong Mix(ulong hash, char value) => (hash ^ value) * FnvPrime;

    private static int Index(ulong hash) => (int)((hash ^ (hash >> 31)) & (FeatureLayout.HashedCount - 1));
}
