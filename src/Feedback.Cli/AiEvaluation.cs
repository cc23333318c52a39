using System.Collections.Concurrent;
using System.Diagnostics;
using Feedback.Analysis;
using Feedback.Analysis.Evaluation;
using Feedback.Analysis.Llm;
using Feedback.Analysis.Local;
using Feedback.Storage;

namespace Feedback.Cli;

/// <summary>
/// <c>eval FILE --provider ai [--prompt v2] [--concurrency 8]</c>: the same report as the local evaluation,
/// for the LLM with one prompt version, so prompt versions are compared on labelled data before a canary.
/// The LLM is the one the server would use (OPENAI_* from the environment, then .env); a row the LLM gives
/// no usable answer for is scored with the local answer, as the service would, and counted.
/// </summary>
internal static class AiEvaluation
{
    public static async Task<int> RunAsync(string path, Func<string, bool>? include, string promptName, int concurrency, bool json)
    {
        if (!PromptLibrary.TryGet(promptName, out var prompt))
        {
            await Console.Error.WriteLineAsync($"There is no prompt '{promptName}' (known: {string.Join(", ", PromptLibrary.Names)}).");
            return 2;
        }

        var settings = Settings();
        var baseUrl = settings.GetValueOrDefault("OPENAI_BASE_URL");
        var apiKey = settings.GetValueOrDefault("OPENAI_API_KEY");
        if (string.IsNullOrWhiteSpace(baseUrl) && string.IsNullOrWhiteSpace(apiKey))
        {
            await Console.Error.WriteLineAsync("No LLM is configured: set OPENAI_API_KEY or OPENAI_BASE_URL (and OPENAI_MODEL).");
            return 1;
        }

        var model = settings.GetValueOrDefault("OPENAI_MODEL") is { Length: > 0 } m ? m : "gpt-4o-mini";
        var redact = !string.Equals(settings.GetValueOrDefault("REDACT_PII"), "false", StringComparison.OrdinalIgnoreCase);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var llm = LlmClassifier.Create(baseUrl, apiKey, model, TimeSpan.FromSeconds(60), http);
        var local = new LocalClassifier();

        // First pass: the texts to ask about (and the local answers, the fallback for each).
        var texts = new List<string>();
        using (var reader = File.OpenText(path))
        {
            Evaluator.Evaluate(reader, text =>
            {
                texts.Add(text);
                return local.Classify(text);
            }, include);
        }

        var answers = new ConcurrentDictionary<string, Classification>(StringComparer.Ordinal);
        var failures = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        long inputTokens = 0, outputTokens = 0;
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(texts.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (text, cancellationToken) =>
        {
            var analysed = TextRules.Truncate(text.Trim(), TextRules.MaxAnalysedLength);
            var callStarted = Stopwatch.GetTimestamp();
            try
            {
                var answer = await llm.ClassifyAsync(redact ? PiiRedactor.Redact(analysed) : analysed, prompt, cancellationToken);
                Interlocked.Add(ref inputTokens, answer.InputTokens);
                Interlocked.Add(ref outputTokens, answer.OutputTokens);
                answers[text] = AiProvider.ToClassification(answer, local.Classify(analysed).Language, prompt, Stopwatch.GetElapsedTime(callStarted));
            }
            catch (LlmFailureException failure)
            {
                failures.AddOrUpdate(failure.Kind.ToString(), 1, (_, n) => n + 1);
            }
        });
        var elapsed = Stopwatch.GetElapsedTime(started);

        EvaluationReport report;
        using (var reader = File.OpenText(path))
        {
            report = Evaluator.Evaluate(reader, text => answers.TryGetValue(text, out var answer) ? answer : local.Classify(text), include);
        }

        var fellBack = failures.Values.Sum();
        if (json)
        {
            Console.WriteLine(report.ToJson());
        }
        else
        {
            Console.WriteLine($"{path} (LLM {model}, prompt {prompt.Name}, {concurrency} at a time)");
            Console.WriteLine(report.ToText());
            Console.WriteLine($"LLM answers: {answers.Count} of {answers.Count + fellBack} distinct texts in {elapsed.TotalSeconds:0.0} s; " +
                $"fell back to the local classifier: {fellBack} ({string.Join(", ", failures.Select(f => $"{f.Key} {f.Value}"))}); " +
                $"tokens in {inputTokens}, out {outputTokens}");
        }

        return 0;
    }

    /// <summary>The environment over .env in the working directory, as the server reads them.</summary>
    private static Dictionary<string, string?> Settings()
    {
        var values = File.Exists(".env") ? DotEnvSource.Parse(File.ReadAllLines(".env")) : new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in new[] { "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "REDACT_PII" })
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                values[name] = value;
            }
        }

        return values;
    }
}
