using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace Feedback.Analysis.Deep;

/// <param name="Threads">Threads ONNX Runtime uses inside one batch (0: one per core).</param>
/// <param name="BatchSize">Most texts encoded in one run of the graph.</param>
/// <param name="KeepBuffers">
/// Keep ONNX Runtime's memory arena: the buffers of the largest batch stay reserved for the process's life and are
/// reused. For a job that encodes without pause (the import); the server gives them back after every batch.
/// </param>
public sealed record EncoderOptions(int Threads = 0, int BatchSize = 32, bool KeepBuffers = false)
{
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}

/// <summary>
/// all-MiniLM-L6-v2 as sentence-transformers runs it: WordPiece ids (lower-cased, at most <see cref="MaxTokens"/> word
/// pieces with [CLS] and [SEP]), the transformer's last hidden state, the mean over the real tokens, and L2
/// normalisation. Thread-safe; load one per process (it holds ~90 MB of weights).
/// </summary>
public sealed class SentenceEncoder : IDisposable
{
    public const int Dimensions = 384;

    /// <summary>Word pieces per text, [CLS] and [SEP] included: the model was trained on 128, and longer costs quadratically.</summary>
    public const int MaxTokens = 128;

    private static readonly string[] InputNames = ["input_ids", "attention_mask", "token_type_ids"];
    private static readonly string[] OutputNames = ["last_hidden_state"];

    private readonly InferenceSession session;
    private readonly BertTokenizer tokenizer;

    public SentenceEncoder(MiniLmFiles files, EncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        using (var vocabulary = File.OpenRead(files.VocabularyPath))
        {
            tokenizer = BertTokenizer.Create(vocabulary, new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });
        }

        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.EffectiveThreads,
            InterOpNumThreads = 1,

            // Without the arena a batch's memory goes back when the batch is done (bench/RESULTS.md: resident memory of
            // the server with the encoder). Batch after batch without pause, though, malloc's heaps fragment and grow
            // past what the arena would hold (bench/RESULTS-import.md, the deep import).
            EnableCpuMemArena = options.KeepBuffers,
        };
        session = new InferenceSession(files.ModelPath, sessionOptions);
    }

    public EncoderOptions Options { get; }

    /// <summary>The encoder from the package's files, extracted beside this assembly on first use.</summary>
    public static SentenceEncoder Load(EncoderOptions? options = null) => new(MiniLmFiles.Extract(), options ?? new EncoderOptions());

    /// <summary>The word-piece ids the model reads for <paramref name="text"/>, [CLS] and [SEP] included.</summary>
    public IReadOnlyList<int> Tokenize(string text) =>
        tokenizer.EncodeToIds(Accents.Strip(text), MaxTokens, addSpecialTokens: true, out _, out _, considerPreTokenization: true, considerNormalization: true);

    /// <summary>One unit vector of <see cref="Dimensions"/> floats per text, in the order given.</summary>
    public float[][] Encode(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var tokenized = new IReadOnlyList<int>[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            tokenized[i] = Tokenize(texts[i]);
        }

        // Texts of similar length share a batch, so little of each batch is padding.
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => tokenized[i].Count).ToArray();
        var vectors = new float[texts.Count][];
        for (var start = 0; start < order.Length; start += Options.BatchSize)
        {
            var batch = order.AsSpan(start, Math.Min(Options.BatchSize, order.Length - start));
            RunBatch(batch, tokenized, vectors);
        }

        return vectors;
    }

    public float[] Encode(string text) => Encode([text])[0];

    private void RunBatch(ReadOnlySpan<int> batch, IReadOnlyList<int>[] tokenized, float[][] vectors)
    {
        var length = 0;
        foreach (var i in batch)
        {
            length = Math.Max(length, tokenized[i].Count);
        }

        var rows = batch.Length;
        var ids = new long[rows * length];
        var mask = new long[rows * length];
        var types = new long[rows * length];
        for (var r = 0; r < rows; r++)
        {
            var pieces = tokenized[batch[r]];
            for (var t = 0; t < pieces.Count; t++)
            {
                ids[(r * length) + t] = pieces[t];
                mask[(r * length) + t] = 1;
            }
        }

        long[] shape = [rows, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, InputNames, [idsValue, maskValue, typesValue], OutputNames);
        var hidden = outputs[0].GetTensorDataAsSpan<float>();
        for (var r = 0; r < rows; r++)
        {
            vectors[batch[r]] = MeanPool(hidden.Slice(r * length * Dimensions, length * Dimensions), tokenized[batch[r]].Count);
        }
    }

    /// <summary>The mean of the first <paramref name="tokens"/> rows (the rest is padding), scaled to length 1.</summary>
    internal static float[] MeanPool(ReadOnlySpan<float> hidden, int tokens)
    {
        var sum = new double[Dimensions];
        for (var t = 0; t < tokens; t++)
        {
            var row = hidden.Slice(t * Dimensions, Dimensions);
            for (var d = 0; d < Dimensions; d++)
            {
                sum[d] += row[d];
            }
        }

        var norm = 0.0;
        for (var d = 0; d < Dimensions; d++)
        {
            sum[d] /= tokens;
            norm += sum[d] * sum[d];
        }

        norm = Math.Max(Math.Sqrt(norm), 1e-12);
        var vector = new float[Dimensions];
        for (var d = 0; d < Dimensions; d++)
        {
            vector[d] = (float)(sum[d] / norm);
        }

        return vector;
    }

    public void Dispose()
    {
        session.Dispose();
    }
}
