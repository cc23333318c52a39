using System.Collections.Concurrent;

namespace Feedback.Analysis.Deep;

/// <summary>
/// One encoder per process and settings: its ~90 MB of weights are immutable and its sessions thread-safe, so every
/// host in the process (several in a test run, one in production) shares it. Loaded on first use of the value.
/// </summary>
public static class SharedEncoders
{
    private static readonly ConcurrentDictionary<EncoderOptions, Lazy<SentenceEncoder>> Loaded = new();

    public static Lazy<SentenceEncoder> Get(EncoderOptions options) =>
        Loaded.GetOrAdd(options, o => new Lazy<SentenceEncoder>(() => SentenceEncoder.Load(o), LazyThreadSafetyMode.ExecutionAndPublication));
}
