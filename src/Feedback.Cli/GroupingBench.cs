using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Evaluation;
using Feedback.Storage;
using Feedback.Storage.Alerts;

namespace Feedback.Cli;

/// <summary>
/// <c>bench-grouping</c> (bench/grouping.sh): how well two ways of saying "the same complaint" agree with a labelled set
/// of message pairs (bench/grouping/pairs.csv): the alert groups' SimHash of the words (the Hamming distance of the
/// two fingerprints) and the encoder's embeddings (the cosine of the two stored vectors). For each, precision, recall
/// and F1 of "same" at every threshold, the threshold chosen on one half of the pairs and scored on the other (both
/// ways), and the recall or false-match rate per kind of pair.
/// </summary>
internal static class GroupingBench
{
    public const string DefaultPairs = "bench/grouping/pairs.csv";

    public static Command Definition()
    {
        var pairs = new Option<string>("--pairs") { Description = "The labelled pairs (kind,same,a,b).", HelpName = "file", DefaultValueFactory = _ => DefaultPairs };
        var bits = new Option<int>("--bits") { Description = "The SimHash setting to report as today's (ALERT_SIMILARITY_BITS).", DefaultValueFactory = _ => new AlertOptions().AlertSimilarityBits };
        var verbose = new Option<bool>("--verbose") { Description = "Every pair with its distances and cosine." };
        var command = new Command("bench-grouping", "Alert grouping by words (SimHash) against by meaning (embeddings) on labelled pairs (bench/grouping.sh).") { pairs, bits, verbose };
        command.Hidden = true;
        command.SetAction(parsed =>
        {
            Run(parsed.GetValue(pairs)!, parsed.GetValue(bits), parsed.GetValue(verbose));
            return CommandLine.Ok;
        });
        return command.WithExamples("dotnet .build/Release/cli/Feedback.Cli.dll bench-grouping   (as bench/grouping.sh runs it)");
    }

    private sealed record Pair(string Kind, bool Same, string A, string B);

    private static void Run(string path, int todaysBits, bool verbose)
    {
        var pairs = Load(path);
        Console.WriteLine($"PAIRS {pairs.Count}: {string.Join(", ", pairs.GroupBy(p => (p.Kind, p.Same)).Select(g => $"{g.Key.Kind} ({(g.Key.Same ? "same" : "not same")}) {g.Count()}"))}");

        // Closeness as a score where higher means "more alike", so one sweep serves both: 64 minus the SimHash distance,
        // and the cosine of the vectors as the server stores them (int8 with a scale).
        var words = pairs.Select(p => 64.0 - BitOperations.PopCount((ulong)(AlertPolicy.Fingerprint(p.A) ^ AlertPolicy.Fingerprint(p.B)))).ToArray();
        using var encoder = SentenceEncoder.Load();
        // Each message encoded once and stored as the service stores it: the cosine of the decoded vectors, the meaning
        // fingerprint of the bytes, as the alert grouping takes them.
        var a = encoder.Encode([.. pairs.Select(p => Prepare(p.A))]).Select(v => StoredEmbedding.Encode(v)!).ToArray();
        var b = encoder.Encode([.. pairs.Select(p => Prepare(p.B))]).Select(v => StoredEmbedding.Encode(v)!).ToArray();
        var meaning = pairs.Select((_, i) => (double)TensorPrimitives.CosineSimilarity(StoredEmbedding.Decode(a[i]), StoredEmbedding.Decode(b[i]))).ToArray();

        var bitsApart = pairs.Select((_, i) => 64.0 - BitOperations.PopCount((ulong)(
            MeaningFingerprint.Of(a[i])!.Value ^ MeaningFingerprint.Of(b[i])!.Value))).ToArray();
        if (verbose)
        {
            for (var i = 0; i < pairs.Count; i++)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"PAIR {pairs[i].Kind} words={64 - words[i]:0} meaning={64 - bitsApart[i]:0} cosine={meaning[i]:0.000} \"{pairs[i].A}\" | \"{pairs[i].B}\""));
            }
        }

        Report(pairs, "meaning-bits", bitsApart, [.. Enumerable.Range(0, 33).Select(d => 64.0 - d)], s => $"distance<={64 - s:0}", null);
        Report(pairs, "simhash", words, [.. Enumerable.Range(0, 33).Select(d => 64.0 - d)], s => $"distance<={64 - s:0}", 64.0 - todaysBits);
        Report(pairs, "embedding", meaning, [.. Enumerable.Range(40, 56).Select(c => c / 100.0)], s => $"cosine>={s:0.00}", null);
    }

    private static void Report(List<Pair> pairs, string method, double[] scores, double[] thresholds, Func<double, string> name, double? today)
    {
        var all = Enumerable.Range(0, pairs.Count).ToArray();
        if (today is { } t)
        {
            Print(method, "today", name(t), Score(pairs, scores, all, t), PerKind(pairs, scores, t));
        }

        // The whole curve, every second threshold: where precision is bought with recall.
        for (var i = 0; i < thresholds.Length; i += 2)
        {
            Print(method, "curve", name(thresholds[i]), Score(pairs, scores, all, thresholds[i]), PerKind(pairs, scores, thresholds[i]));
        }

        var best = thresholds.MaxBy(th => Score(pairs, scores, all, th).F1);
        Print(method, "best", name(best), Score(pairs, scores, all, best), PerKind(pairs, scores, best));

        // Chosen on the even pairs and scored on the odd, and the other way round: what a threshold set in advance gets.
        var even = all.Where(i => i % 2 == 0).ToArray();
        var odd = all.Where(i => i % 2 == 1).ToArray();
        var onEven = thresholds.MaxBy(th => Score(pairs, scores, even, th).F1);
        var onOdd = thresholds.MaxBy(th => Score(pairs, scores, odd, th).F1);
        var heldOut = Score(pairs, scores, odd, onEven).Add(Score(pairs, scores, even, onOdd));
        Print(method, "held-out", $"{name(onEven)} / {name(onOdd)}", heldOut, "");
    }

    private static void Print(string method, string which, string threshold, Counts counts, string perKind) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"GROUPING method={method} {which} {threshold} precision={counts.Precision:0.000} recall={counts.Recall:0.000} f1={counts.F1:0.000} {perKind}").TrimEnd());

    private static string PerKind(List<Pair> pairs, double[] scores, double threshold) =>
        string.Join(' ', pairs.Select((p, i) => (p, i)).GroupBy(x => x.p.Kind, StringComparer.Ordinal).Select(g =>
            string.Create(CultureInfo.InvariantCulture, $"{g.Key}_{(g.First().p.Same ? "found" : "matched")}={g.Count(x => scores[x.i] >= threshold) / (double)g.Count():0.00}")));

    private static Counts Score(List<Pair> pairs, double[] scores, int[] indices, double threshold)
    {
        int tp = 0, fp = 0, fn = 0;
        foreach (var i in indices)
        {
            var said = scores[i] >= threshold;
            tp += said && pairs[i].Same ? 1 : 0;
            fp += said && !pairs[i].Same ? 1 : 0;
            fn += !said && pairs[i].Same ? 1 : 0;
        }

        return new Counts(tp, fp, fn);
    }

    private readonly record struct Counts(int TruePositives, int FalsePositives, int FalseNegatives)
    {
        public double Precision => TruePositives + FalsePositives == 0 ? 0 : TruePositives / (double)(TruePositives + FalsePositives);

        public double Recall => TruePositives + FalseNegatives == 0 ? 0 : TruePositives / (double)(TruePositives + FalseNegatives);

        public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);

        public Counts Add(Counts other) => new(TruePositives + other.TruePositives, FalsePositives + other.FalsePositives, FalseNegatives + other.FalseNegatives);
    }

    private static List<Pair> Load(string path)
    {
        using var reader = File.OpenText(path);
        var pairs = new List<Pair>();
        foreach (var record in CsvReader.ReadRecords(reader).Skip(1))
        {
            pairs.Add(new Pair(record[0], record[1] == "1", record[2], record[3]));
        }

        return pairs;
    }

    private static string Prepare(string text) => TextRules.Normalise(TextRules.Truncate(text.Trim(), TextRules.MaxAnalysedLength));
}
