using System.Diagnostics;
using System.Globalization;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;

namespace Feedback.Cli;

/// <summary>
/// <c>bench-encoder</c> (used by bench/deep.sh): the bare encoder's rate on ~100-character messages in batches, and one
/// message's encode time, with nothing of the service around it: the baseline the service is measured against.
/// </summary>
internal static class EncoderBench
{
    public static int Run(string[] args)
    {
        var options = CommandLine.Parse(args, flags: [], valued: ["--data", "--batch", "--threads"]);
        if (options.Error is not null || !int.TryParse(options.Value("--batch") ?? "32", CultureInfo.InvariantCulture, out var batch) ||
            !int.TryParse(options.Value("--threads") ?? "0", CultureInfo.InvariantCulture, out var threads))
        {
            Console.Error.WriteLine("Usage: bench-encoder [--data FILE] [--batch 32] [--threads 0]");
            return 2;
        }

        // Real messages cut at a word near 100 characters: the length the service's bench sends.
        var texts = ProductFeedbackSet.Load(options.Value("--data") ?? ProductFeedbackSet.DefaultPath)
            .Select(r => Cut(TextRules.Normalise(r.Text), 100))
            .Where(t => t.Length >= 60)
            .Take(2048)
            .ToArray();
        using var encoder = SentenceEncoder.Load(new EncoderOptions(threads, batch));
        encoder.Encode(texts[..256]);

        var started = Stopwatch.GetTimestamp();
        encoder.Encode(texts);
        var rate = texts.Length / Stopwatch.GetElapsedTime(started).TotalSeconds;

        var single = new double[300];
        for (var i = 0; i < single.Length; i++)
        {
            var one = Stopwatch.GetTimestamp();
            encoder.Encode(texts[i]);
            single[i] = Stopwatch.GetElapsedTime(one).TotalMilliseconds;
        }

        Array.Sort(single);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ENCODER texts={texts.Length} mean_chars={texts.Average(t => t.Length):0} batch={batch} threads={encoder.Options.EffectiveThreads} rate={rate:0.0} one_p50_ms={single[single.Length / 2]:0.00} one_p99_ms={single[single.Length * 99 / 100]:0.00}"));
        return 0;
    }

    private static string Cut(string text, int length)
    {
        if (text.Length <= length)
        {
            return text;
        }

        var space = text.LastIndexOf(' ', length);
        return text[..(space > 0 ? space : length)];
    }
}
