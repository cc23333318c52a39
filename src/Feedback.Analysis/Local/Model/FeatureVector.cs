namespace Feedback.Analysis.Local.Model;

/// <summary>
/// The features of one message: hashed n-grams (sparse) followed by a few dense lexicon features, plus the
/// word features of each clause so a clause can be scored on its own. Buffers are reused per thread.
/// </summary>
/// <remarks>Belongs to the calling thread and is overwritten by the next extraction on that thread.</remarks>
internal sealed class FeatureVector
{
    [ThreadStatic]
    private static FeatureVector? perThread;

    private int[] indices = new int[1024];
    private float[] values = new float[1024];
    private int[] wordIndices = new int[256];
    private int[] wordTokens = new int[256];
    private int[] clauseOf = new int[256];
    private int[] clauseFirstToken = new int[32];
    private int[] clauseLastToken = new int[32];
    private TokenKinds[] tokenKinds = new TokenKinds[96];

    public int Count { get; private set; }

    public ReadOnlySpan<int> Indices => indices.AsSpan(0, Count);

    public ReadOnlySpan<float> Values => values.AsSpan(0, Count);

    /// <summary>Word unigram and bigram features in token order; the clause model scores these per clause.</summary>
    public int WordCount { get; private set; }

    public ReadOnlySpan<int> WordIndices => wordIndices.AsSpan(0, WordCount);

    /// <summary>The token each word feature ends on (for explanations).</summary>
    public ReadOnlySpan<int> WordTokens => wordTokens.AsSpan(0, WordCount);

    /// <summary>The clause each word feature belongs to; never decreasing, as the features follow the tokens.</summary>
    public ReadOnlySpan<int> ClauseOf => clauseOf.AsSpan(0, WordCount);

    public int ClauseCount { get; private set; }

    public int ClauseFirstToken(int clause) => clauseFirstToken[clause];

    public int ClauseLastToken(int clause) => clauseLastToken[clause];

    /// <summary>What the extractor's word lists say about token <paramref name="token"/>; see <see cref="FeatureExtractor.Extract"/>.</summary>
    public TokenKinds KindsOf(int token) => tokenKinds[token];

    /// <summary>Room for the kinds of <paramref name="tokens"/> tokens, filled once per message before the features.</summary>
    public Span<TokenKinds> KindsFor(int tokens)
    {
        if (tokenKinds.Length < tokens)
        {
            tokenKinds = new TokenKinds[Math.Max(tokens, tokenKinds.Length * 2)];
        }

        return tokenKinds.AsSpan(0, tokens);
    }

    public float[] Dense { get; } = new float[FeatureLayout.DenseCount];

    /// <summary>The product-feedback cues the model applies as fixed shifts rather than learned weights.</summary>
    public CuePriors Priors { get; set; }

    public static FeatureVector ForThisThread() => perThread ??= new FeatureVector();

    public void Clear()
    {
        Count = 0;
        WordCount = 0;
        ClauseCount = 0;
        Priors = default;
        Array.Clear(Dense);
    }

    public void Add(int index, float value)
    {
        if (Count == indices.Length)
        {
            Array.Resize(ref indices, Count * 2);
            Array.Resize(ref values, Count * 2);
        }

        indices[Count] = index;
        values[Count++] = value;
    }

    /// <summary>Appends <paramref name="count"/> features of one value; the caller fills in their indices.</summary>
    public Span<int> AddRange(int count, float value)
    {
        if (Count + count > indices.Length)
        {
            var capacity = Math.Max(Count + count, indices.Length * 2);
            Array.Resize(ref indices, capacity);
            Array.Resize(ref values, capacity);
        }

        var from = Count;
        Count += count;
        values.AsSpan(from, count).Fill(value);
        return indices.AsSpan(from, count);
    }

    /// <summary>Multiplies the values added since <paramref name="from"/> by <paramref name="scale"/>.</summary>
    public void Scale(int from, float scale)
    {
        for (var k = from; k < Count; k++)
        {
            values[k] *= scale;
        }
    }

    public void AddWord(int index, int token, int clause)
    {
        if (WordCount == wordIndices.Length)
        {
            Array.Resize(ref wordIndices, WordCount * 2);
            Array.Resize(ref wordTokens, WordCount * 2);
            Array.Resize(ref clauseOf, WordCount * 2);
        }

        wordIndices[WordCount] = index;
        wordTokens[WordCount] = token;
        clauseOf[WordCount++] = clause;
    }

    public void AddClause(int firstToken, int lastToken)
    {
        if (ClauseCount == clauseFirstToken.Length)
        {
            Array.Resize(ref clauseFirstToken, ClauseCount * 2);
            Array.Resize(ref clauseLastToken, ClauseCount * 2);
        }

        clauseFirstToken[ClauseCount] = firstToken;
        clauseLastToken[ClauseCount++] = lastToken;
    }

    /// <summary>Appends the dense features after the hashed ones, so one dot product covers both.</summary>
    public void AppendDense()
    {
        for (var d = 0; d < Dense.Length; d++)
        {
            if (Dense[d] != 0)
            {
                Add(FeatureLayout.HashedCount + d, Dense[d]);
            }
        }
    }
}
