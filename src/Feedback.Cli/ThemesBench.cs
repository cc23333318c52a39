using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;
using Feedback.Analysis.Evaluation;
using Feedback.Analysis.Themes;

namespace Feedback.Cli;

/// <summary>
/// <c>bench-themes</c> (bench/themes.sh): issue #19's theme targets on the bench set (bench/themes/set.csv: planted themes
/// of paraphrases among unrelated messages), as the server would store them (the same encoder, the vectors through the
/// stored int8 encoding), and the clustering time for many vectors on every core.
/// </summary>
internal static class ThemesBench
{
    public const string DefaultSet = "bench/themes/set.csv";

    public static Command Definition()
    {
        var set = new Option<string>("--set") { Description = "The bench set (theme,text; an empty theme is an unrelated message).", HelpName = "file", DefaultValueFactory = _ => DefaultSet };
        var vectors = new Option<int>("--vectors") { Description = "Vectors clustered for the timing (0: none).", DefaultValueFactory = _ => 100_000 };
        var seeds = new Option<int>("--seeds") { Description = "Messages of the in-domain set encoded as the timing's seeds.", DefaultValueFactory = _ => 4000 };
        var leader = new Option<float>("--leader") { Description = "Leader threshold.", DefaultValueFactory = _ => new ThemeThresholds().Leader };
        var merge = new Option<float>("--merge") { Description = "Merge threshold.", DefaultValueFactory = _ => new ThemeThresholds().Merge };
        var join = new Option<float>("--join") { Description = "Join threshold.", DefaultValueFactory = _ => new ThemeThresholds().Join };
        var sample = new Option<int>("--sample") { Description = "The most messages clustered (the rest join the themes found).", DefaultValueFactory = _ => new ThemeThresholds().Sample };
        var verbose = new Option<bool>("--verbose") { Description = "List every theme with its label." };
        var command = new Command("bench-themes", "Theme targets on the bench set and clustering time (bench/themes.sh).") { set, vectors, seeds, leader, merge, join, sample, verbose };
        command.Hidden = true;
        command.SetAction(parsed =>
        {
            var thresholds = new ThemeThresholds(parsed.GetValue(leader), parsed.GetValue(merge), parsed.GetValue(join), Sample: parsed.GetValue(sample));
            Targets(parsed.GetValue(set)!, thresholds, parsed.GetValue(verbose));
            if (parsed.GetValue(vectors) > 0)
            {
                Timing(parsed.GetValue(seeds), parsed.GetValue(vectors), thresholds);
            }

            return CommandLine.Ok;
        });
        return command.WithExamples("dotnet .build/Release/cli/Feedback.Cli.dll bench-themes --vectors 100000   (as bench/themes.sh runs it)");
    }

    /// <summary>The rows of the bench set: (planted theme or "", text).</summary>
    public static List<(string Theme, string Text)> LoadSet(string path)
    {
        using var reader = File.OpenText(path);
        using var records = CsvReader.ReadRecords(reader).GetEnumerator();
        records.MoveNext();
        var rows = new List<(string, string)>();
        while (records.MoveNext())
        {
            rows.Add((records.Current[0], records.Current[1]));
        }

        return rows;
    }

    private static void Targets(string path, ThemeThresholds thresholds, bool verbose)
    {
        var rows = LoadSet(path);
        using var encoder = SentenceEncoder.Load();
        var started = Stopwatch.GetTimestamp();
        var vectors = encoder.Encode([.. rows.Select(r => TextRules.Normalise(TextRules.Truncate(r.Text.Trim(), TextRules.MaxAnalysedLength)))])
            .Select(v => Feedback.Storage.StoredEmbedding.AsStored(v)).ToArray();
        var encodeSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (Environment.GetEnvironmentVariable("THEMES_GRID") is "1")
        {
            foreach (var l in new[] { 0.65f, 0.75f })
            {
                foreach (var m in new[] { 0.30f, 0.34f, 0.38f, 0.42f, 0.46f, 0.50f })
                {
                    foreach (var j in new[] { 0.20f, 0.24f, 0.28f, 0.32f, 0.36f })
                    {
                        Evaluate(rows, vectors, new ThemeThresholds(l, m, j), false, 0, quiet: true);
                    }
                }
            }
        }

        Evaluate(rows, vectors, thresholds, verbose, encodeSeconds, quiet: false);
    }

    private static void Evaluate(List<(string Theme, string Text)> rows, float[][] vectors, ThemeThresholds thresholds, bool verbose, double encodeSeconds, bool quiet)
    {
        var ids = Enumerable.Range(1, rows.Count).Select(i => (long)i).ToArray();
        var clusters = ThemeClustering.Cluster(ids, [.. vectors.SelectMany(v => v)], SentenceEncoder.Dimensions, thresholds);
        var labels = KeyPhrases.Extract(
            [.. clusters.Themes.Select(t => (IReadOnlyList<string>)[.. t.Members.Select(m => rows[m].Text)])],
            [.. Enumerable.Range(0, rows.Count).Where(i => clusters.Themes.All(t => !t.Members.Contains(i))).Select(i => rows[i].Text)]);

        // The shuffled set: ids given in another order, so only the vectors can make the themes the same.
        var shuffled = Enumerable.Range(0, rows.Count).OrderBy(i => (i * 7919) % rows.Count).ToArray();
        var again = ThemeClustering.Cluster([.. shuffled.Select(i => ids[i])], [.. shuffled.SelectMany(i => vectors[i])], SentenceEncoder.Dimensions, thresholds);
        var identical = Canonical(clusters, i => i) == Canonical(again, i => shuffled[i]);

        var planted = rows.Where(r => r.Theme.Length > 0).Select(r => r.Theme).Distinct(StringComparer.Ordinal).ToList();
        var met = 0;
        foreach (var theme in planted)
        {
            var members = Enumerable.Range(0, rows.Count).Where(i => rows[i].Theme == theme).ToHashSet();
            var best = clusters.Themes.Select((t, index) => (Index: index, Found: t.Members.Count(members.Contains), Size: t.Members.Length))
                .OrderByDescending(t => t.Found).First();
            var recall = best.Found / (double)members.Count;
            var purity = best.Found / (double)best.Size;
            met += recall >= 0.8 && purity >= 0.7 ? 1 : 0;
            if (!quiet)
            {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"PLANTED theme={theme} paraphrases={members.Count} in_one_theme={best.Found} recall={recall:0.00} theme_size={best.Size} purity={purity:0.00} label=\"{KeyPhrases.Label(labels[best.Index])}\""));
            }
        }

        if (verbose)
        {
            for (var t = 0; t < clusters.Themes.Count; t++)
            {
                Console.WriteLine($"THEME size={clusters.Themes[t].Members.Length} label=\"{KeyPhrases.Label(labels[t])}\" first=\"{rows[clusters.Themes[t].Members[0]].Text.ReplaceLineEndings(" ")[..Math.Min(80, rows[clusters.Themes[t].Members[0]].Text.ReplaceLineEndings(" ").Length)]}\"");
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"THEMES messages={rows.Count} themes={clusters.Themes.Count} planted_met={met}/{planted.Count} outlier_share={clusters.Outliers / (double)rows.Count:0.000} shuffled_identical={identical} " +
            $"leader={thresholds.Leader} merge={thresholds.Merge} join={thresholds.Join} encode_s={encodeSeconds:0.0}"));
    }

    /// <summary>The themes as sets of original row indexes, in one text: equal for equal partitions.</summary>
    private static string Canonical(ThemeClusters clusters, Func<int, int> original) =>
        string.Join('|', clusters.Themes.Select(t => string.Join(',', t.Members.Select(original).Order())).Order(StringComparer.Ordinal));

    /// <summary>
    /// <paramref name="count"/> vectors made from <paramref name="seedCount"/> real messages' (the in-domain set): each a
    /// message's vector plus noise (cosine about 0.7 with it, 0.5 between two made from one message), at unit length, so
    /// every vector is distinct and most start a micro-cluster of their own; clustered on every core.
    /// </summary>
    private static void Timing(int seedCount, int count, ThemeThresholds thresholds)
    {
        using var encoder = SentenceEncoder.Load();
        var seeds = encoder.Encode([.. ProductFeedbackSet.Load(ProductFeedbackSet.DefaultPath)
            .Select(r => TextRules.Normalise(TextRules.Truncate(r.Text.Trim(), TextRules.MaxAnalysedLength))).Distinct(StringComparer.Ordinal).Take(seedCount)]);
        var random = new Random(19);
        var dimensions = SentenceEncoder.Dimensions;
        var flat = new float[count * dimensions];
        for (var i = 0; i < count; i++)
        {
            var seed = seeds[random.Next(seeds.Length)];
            var row = flat.AsSpan(i * dimensions, dimensions);
            double norm = 0;
            for (var d = 0; d < dimensions; d++)
            {
                row[d] = seed[d] + (float)(Gaussian(random) * 0.05);
                norm += row[d] * row[d];
            }

            for (var d = 0; d < dimensions; d++)
            {
                row[d] /= (float)Math.Sqrt(norm);
            }
        }

        var ids = Enumerable.Range(1, count).Select(i => (long)i).ToArray();
        var cpu = Environment.CpuUsage.TotalTime;
        var started = Stopwatch.GetTimestamp();
        var clusters = ThemeClustering.Cluster(ids, flat, dimensions, thresholds);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CLUSTER vectors={count} sample={thresholds.Sample} seeds={seeds.Length} themes={clusters.Themes.Count} outlier_share={clusters.Outliers / (double)count:0.000} seconds={seconds:0.0} cpu_seconds={(Environment.CpuUsage.TotalTime - cpu).TotalSeconds:0.0} cores={Environment.ProcessorCount}"));
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
