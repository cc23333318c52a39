using System.Threading.Channels;

namespace Feedback.Analysis.Deep;

/// <param name="Budget">How long a request waits for the deep answer before the lexical one goes out as provisional.</param>
/// <param name="QueueCapacity">Messages waiting to be encoded at most; past it a request is answered provisionally at once.</param>
public sealed record DeepTierOptions(TimeSpan Budget, int BatchSize = 32, int QueueCapacity = 512);

/// <summary>
/// The deep classifier behind a bounded micro-batching queue, for the service. One thread loads the encoder (at
/// start, in the background) and then encodes whatever is waiting, up to a batch at a time: alone a message is
/// encoded at once, under load messages share a run of the graph, which costs far less per message. Callers wait
/// for their answer within <see cref="DeepTierOptions.Budget"/> and otherwise answer with the lexical model and let
/// the deep answer replace it later, so nothing waits longer than the budget and nothing is lost.
/// </summary>
public sealed class DeepTier : IDisposable
{
    private readonly Channel<Pending> queue;
    private readonly Func<IReadOnlyList<string>, float[][]> encode;
    private volatile bool ready;

    /// <param name="encode">The encoder; by default the classifier's. Tests give a slower one.</param>
    public DeepTier(DeepClassifier classifier, DeepTierOptions options, Func<IReadOnlyList<string>, float[][]>? encode = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(options);
        Classifier = classifier;
        Options = options;
        this.encode = encode ?? (texts => classifier.Encoder.Encode(texts));
        queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        new Thread(Work) { IsBackground = true, Name = "deep-encoder" }.Start();
    }

    public DeepClassifier Classifier { get; }

    public DeepTierOptions Options { get; }

    public string Version => Classifier.Version;

    /// <summary>False until the encoder has loaded and answered once.</summary>
    public bool IsReady => ready;

    /// <summary>Set when the encoder could not be loaded: every answer is then the lexical one.</summary>
    public Exception? LoadError { get; private set; }

    /// <summary>Messages waiting to be encoded now.</summary>
    public int Waiting => queue.Reader.Count;

    /// <summary>
    /// Queues a message the lexical model has read; <paramref name="answer"/> completes when it is encoded. False when
    /// the queue is full or the encoder failed to load: the caller keeps the lexical answer and the row is revised later.
    /// </summary>
    public bool TryClassify(string normalised, Classification lexical, bool explain, out Task<Classification> answer)
    {
        var pending = new Pending(normalised, lexical, explain);
        answer = pending.Answer.Task;
        return LoadError is null && queue.Writer.TryWrite(pending);
    }

    /// <summary>The deep answer with no deadline, waiting for room in the queue: for revising stored rows.</summary>
    public async Task<Classification?> ClassifyAsync(string normalised, Classification lexical, bool explain, CancellationToken cancellationToken)
    {
        if (LoadError is not null)
        {
            return null;
        }

        var pending = new Pending(normalised, lexical, explain);
        await queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Answer.Task.WaitAsync(cancellationToken);
    }

    private void Work()
    {
        try
        {
            // Loads the encoder and runs it once, so the first request does not pay for ONNX Runtime's first run.
            encode(["warm up"]);
            ready = true;
        }
        catch (Exception exception)
        {
            LoadError = exception;
            queue.Writer.TryComplete();
            while (queue.Reader.TryRead(out var stranded))
            {
                stranded.Answer.TrySetException(exception);
            }

            return;
        }

        var batch = new List<Pending>(Options.BatchSize);
        while (queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            while (batch.Count < Options.BatchSize && queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            try
            {
                var vectors = encode([.. batch.Select(p => p.Text)]);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Answer.TrySetResult(Classifier.Combine(batch[i].Text, batch[i].Lexical, vectors[i], batch[i].Explain));
                }
            }
            catch (Exception exception)
            {
                foreach (var pending in batch)
                {
                    pending.Answer.TrySetException(exception);
                }
            }
        }
    }

    /// <summary>Stops taking messages; the thread ends after the batch it is encoding (if any).</summary>
    public void Dispose() => queue.Writer.TryComplete();

    private sealed record Pending(string Text, Classification Lexical, bool Explain)
    {
        public TaskCompletionSource<Classification> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
