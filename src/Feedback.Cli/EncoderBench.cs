using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;
using Feedback.Analysis.Evaluation;

namespace Feedback.Cli;

/// <summary>
/// <c>bench-encoder</c> (used by bench/deep.sh): the bare encoder's rate on ~100-character messages in batches (and the
/// CPU time per message, which a busy machine moves less than the rate), and one message's encode time, with nothing
/// of the service around it: the baseline the service is measured against.
/// <c>--texts FILE</c> takes the messages of a CSV's <c>text</c> column instead (the import bench's file), so the
/// import is measured against the encoder on its own texts.
/// </summary>
internal static class EncoderBench
{
    public static Command Definition()
    {
        var data = new Option<string?>("--data") { Description = "The in-domain set whose messages are encoded.", HelpName = "file" };
        var texts = new Option<string?>("--texts") { Description = "A CSV whose text column is encoded instead (the import bench's file).", HelpName = "file" };
        var batch = new Option<int>("--batch") { Description = "Messages per encoder batch.", DefaultValueFactory = _ => 32 };
        var threads = new Option<int>("--threads") { Description = "Encoder threads (0: every core).", DefaultValueFactory = _ => 0 };
        var command = new Command("bench-encoder", "The bare sentence encoder's rate (bench/deep.sh).") { data, texts, batch, threads };
        command.Hidden = true;
        command.SetAction(parsed => Run(parsed.GetValue(data), parsed.GetValue(texts), parsed.GetValue(batch), parsed.GetValue(threads)));
        return command.WithExamples("dotnet .build/Release/cli/Feedback.Cli.dll bench-encoder --texts import.csv --batch 32   (as bench/deep.sh runs it)");
    }

    private static int Run(string? data, string? file, int batch, int threads)
    {
        // Real messages cut at a word near 100 characters: the length the service's bench sends.
        var messages = file is not null
            ? TextColumn(file)
            : ProductFeedbackSet.Load(data ?? ProductFeedbackSet.DefaultPath).Select(r => r.Text);
        var texts = messages
            .Select(t => Cut(TextRules.Normalise(t), 100))
            .Where(t => t.Length >= 60)
            .Take(2048)
            .ToArray();
        using var encoder = SentenceEncoder.Load(new EncoderOptions(threads, batch));
        encoder.Encode(texts[..256]);

        var started = Stopwatch.GetTimestamp();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        encoder.Encode(texts);
        var rate = texts.Length / Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpuPerText = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds / texts.Length;

        var single = new double[300];
        for (var i = 0; i < single.Length; i++)
        {
            var one = Stopwatch.GetTimestamp();
            encoder.Encode(texts[i]);
            single[i] = Stopwatch.GetElapsedTime(one).TotalMilliseconds;
        }

        Array.Sort(single);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ENCODER texts={texts.Length} mean_chars={texts.Average(t => t.Length):0} batch={batch} threads={encoder.Options.EffectiveThreads} rate={rate:0.0} cpu_ms={cpuPerText:0.00} one_p50_ms={single[single.Length / 2]:0.00} one_p99_ms={single[single.Length * 99 / 100]:0.00}"));
        return 0;
    }

    private static IEnumerable<string> TextColumn(string path)
    {
        using var reader = File.OpenText(path);
        using var records = CsvReader.ReadRecords(reader).GetEnumerator();
        var text = records.MoveNext() ? Array.IndexOf(records.Current, "text") : -1;
        if (text < 0)
        {
            throw new InvalidDataException($"{path}: the header has no 'text' column");
        }

        while (records.MoveNext())
        {
            yield return records.Current[text];
        }
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
