using System.CommandLine;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Llm;
using Feedback.Analysis.Local;
using Feedback.Storage;
using Feedback.Cli.Store;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Feedback.Cli.Reclassify;

/// <summary>
/// reclassify --since WHEN [--until WHEN] [--method ml|ai] [--dry-run]: asks the local classifier (or the configured
/// LLM) again about stored messages and writes every changed answer through the server's own writer as a revision,
/// so the history keeps the old answer and the alert is re-decided exactly as when an LLM answer replaces a
/// provisional one. Rows still provisional are left to the server, which is about to revise them itself. LLM calls are
/// counted in the store with the revisions (the unchanged rows' too) against LLM_TOKEN_BUDGET_MONTHLY, which stops them
/// as it stops the server's; a dry run writes nothing, so its calls are not counted.
/// </summary>
internal static class ReclassifyCommand
{
    private const int Chunk = 2000;

    public static Command Definition()
    {
        var since = new Option<string>("--since") { Description = "Messages received at or after WHEN: a date or time (2026-11-01, 2026-11-01T12:00Z) or a duration back from now (30m, 12h, 7d, 2w).", HelpName = "when", Required = true };
        var until = new Option<string>("--until") { Description = "And before WHEN (default: now).", HelpName = "when", DefaultValueFactory = _ => "0m" };
        var method = CommandLine.OneOf("--method", "The local classifier (ml) or the configured LLM (ai, OPENAI_*).", "ml", "ml", "ai");
        var classifier = new Option<string?>("--classifier") { Description = "With --method ml: the sentence encoder and trained heads (deep, the default) or the lexical model (fast).", HelpName = "deep|fast" };
        var concurrency = new Option<int>("--concurrency") { Description = "LLM calls in flight with --method ai (1 to 64).", DefaultValueFactory = _ => 8 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Count what would change and write nothing." };
        var command = new Command("reclassify", "Classify stored messages again, as revisions that keep the history.") { since, until, method, classifier, concurrency, dryRun };
        command.SetAction((parsed, _) => RunAsync(ReclassifyOptions.Create(
            parsed.GetValue(since)!, parsed.GetValue(until)!, parsed.GetValue(method)!, parsed.GetValue(classifier), parsed.GetValue(concurrency), parsed.GetValue(dryRun), CliApp.Time.GetUtcNow().UtcDateTime, out var error), error));
        return command.WithExamples(
            "./run.sh reclassify --since 7d --dry-run",
            "./run.sh reclassify --since 2026-11-01 --until 2026-12-01 --method ai --concurrency 4");
    }

    private static async Task<int> RunAsync(ReclassifyOptions? options, string error)
    {
        if (options is null)
        {
            await Console.Error.WriteLineAsync(error);
            return CommandLine.Usage;
        }

        var settings = CliStore.Settings();
        if (options.UseLlm && !settings.Llm.AiConfigured)
        {
            await Console.Error.WriteLineAsync(settings.Llm.AiProviderEnabled
                ? "No LLM is configured: set OPENAI_API_KEY or OPENAI_BASE_URL (and OPENAI_MODEL) to reclassify with --method ai."
                : "The LLM is turned off (AI_PROVIDER_ENABLED=false): --method ai has nothing to ask.");
            return 1;
        }

        if (options.UseLlm && settings.Llm.BudgetFailures().FirstOrDefault() is { } budgetError)
        {
            await Console.Error.WriteLineAsync(budgetError);
            return 1;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromMilliseconds(settings.Llm.AiTimeoutMs) + TimeSpan.FromSeconds(1) };
        using var connection = options.DryRun ? CliStore.OpenReadOnly(settings) : CliStore.Open(settings);
        var classifier = options.UseLlm ? Classifier.Llm(settings, http, options.Concurrency) : Classifier.Local(options.Deep);
        var rows = new StoredRows(connection, options.From, options.To);
        var total = rows.Count();
        var summary = new ReclassifySummary();
        var started = Stopwatch.GetTimestamp();

        await using (var writer = options.DryRun ? null : await RevisionWriter.StartAsync(settings))
        {
            if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
            {
                await AnsiConsole.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask("Reclassifying", maxValue: Math.Max(1, total));
                        await ReclassifyAsync(rows, classifier, writer, settings.Alerts.AlertRule, summary, options.Concurrency, () =>
                        {
                            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                            task.Description = $"{summary.Read:N0} rows, {summary.Read / Math.Max(seconds, 0.001):N0} rows/s, {summary.Changed:N0} changed";
                            task.Value = summary.Read;
                        });
                        task.Value = task.MaxValue;
                    });
            }
            else
            {
                await ReclassifyAsync(rows, classifier, writer, settings.Alerts.AlertRule, summary, options.Concurrency, static () => { });
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        Console.WriteLine(summary.Describe(options, classifier.Name, elapsed));
        return 0;
    }

    /// <summary>Reads the window in chunks of ids, classifies each chunk, and revises the rows whose answer changed.</summary>
    private static async Task ReclassifyAsync(
        StoredRows rows, Classifier classifier, RevisionWriter? writer, AlertRule alertRule, ReclassifySummary summary, int concurrency, Action report)
    {
        long after = 0;
        while (rows.Next(after, Chunk) is { Count: > 0 } chunk)
        {
            after = chunk[^1].Id;
            var answers = await classifier.ClassifyAsync(chunk, concurrency);
            var revisions = new List<Revision>();
            var at = CliApp.Time.GetUtcNow().UtcDateTime;

            // The calls whose answers change nothing were billed too: counted on their own.
            var uncarried = LlmUsage.None;
            for (var i = 0; i < chunk.Count; i++)
            {
                var stored = chunk[i];
                if (answers[i].Result is not { } answer)
                {
                    summary.NoAnswer++;
                    summary.BudgetSpent += answers[i].BudgetSpent ? 1 : 0;
                    uncarried += answers[i].Usage;
                    continue;
                }

                var alert = alertRule.Triggers(answer);
                var record = FeedbackRecord.ForAnswer(answer, alert, classifier.Taxonomy);
                var sentimentChanged = record.Sentiment != stored.Sentiment;
                var topicChanged = record.Topic != stored.Topic;
                // A change of taxonomy changes which topics an answer scores even where its labels stay.
                if (!sentimentChanged && !topicChanged && record.ConfidenceScore == stored.ConfidenceScore && record.ProcessingMethod == stored.Method
                    && StoredTopicScores.SameTopics(stored.TopicScores, record.TopicScores))
                {
                    uncarried += answers[i].Usage;
                    continue;
                }

                summary.Count(sentimentChanged, topicChanged, stored.Alert, alert);
                revisions.Add(new Revision(stored.Id, record, alert, classifier.Reason, at, ReplacesFinal: true, Usage: answers[i].Usage));
            }

            if (writer is not null)
            {
                await writer.WriteAsync(revisions, uncarried.IsNone ? null : new LlmSpend(uncarried, at));
                classifier.Written(answers.Aggregate(LlmUsage.None, (sum, a) => sum + a.Usage));
            }

            summary.Read += chunk.Count;
            report();
        }
    }

    /// <summary>The stored answer a new one is compared with.</summary>
    internal sealed record StoredRow(long Id, string Text, string Sentiment, string Topic, string ConfidenceScore, string Method, bool Alert, string? TopicScores);

    /// <summary>The final rows received in [from, to), read in id order a chunk at a time.</summary>
    private sealed class StoredRows(DbConnection connection, DateTime from, DateTime to)
    {
        private const string Window = "FROM feedback WHERE created_at >= @from AND created_at < @to AND status = 'final'";

        public long Count()
        {
            using var command = connection.Command($"SELECT count(*) {Window}", ("from", from), ("to", to));
            return (long)command.ExecuteScalar()!;
        }

        public List<StoredRow> Next(long afterId, int limit)
        {
            using var command = connection.Command(
                $"SELECT id, text, sentiment, topic, confidence_score, processing_method, alert_triggered, topic_scores {Window} AND id > @after ORDER BY id LIMIT @limit",
                ("from", from), ("to", to), ("after", afterId), ("limit", limit));
            using var reader = command.ExecuteReader();
            var rows = new List<StoredRow>(limit);
            while (reader.Read())
            {
                rows.Add(new StoredRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.GetString(4), reader.GetString(5), reader.GetBoolean(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
            }

            return rows;
        }
    }

    /// <summary>The local classifier or the LLM, each behind the same <see cref="Analyzer"/> the server answers with.</summary>
    private sealed class Classifier
    {
        private readonly Analyzer _analyzer;

        public Taxonomy Taxonomy => _analyzer.Taxonomy;
        private readonly bool _llm;

        // Tokens of this run's calls not yet in the store (a chunk's are written after the whole chunk): the budget
        // counts them, or a chunk of 2,000 calls could pass it unseen.
        private readonly UnwrittenTokens _unwritten;

        private Classifier(Analyzer analyzer, bool llm, string name, string reason, UnwrittenTokens? unwritten = null)
        {
            _unwritten = unwritten ?? new UnwrittenTokens();
            _analyzer = analyzer;
            _llm = llm;
            Name = name;
            Reason = reason;
        }

        public string Name { get; }

        /// <summary>Why the answer changed, as the revision history shows it.</summary>
        public string Reason { get; }

        public static Classifier Local(bool deep)
        {
            // A revision stores labels and scores, not the reasons text: the classifier skips building it.
            var analyzer = LocalClassifiers.Create(deep, new ClassificationCache(50_000, TimeSpan.FromHours(1), CliApp.Time), explain: false);
            return new Classifier(analyzer, llm: false, $"the local classifier ({analyzer.LocalVersion})",
                $"reclassified with the local classifier {analyzer.LocalVersion}");
        }

        /// <summary>
        /// The LLM as the server configures it (model, prompt, canary, redaction, timeout, circuit, monthly budget), with
        /// <paramref name="concurrency"/> calls in flight.
        /// </summary>
        public static Classifier Llm(CliSettings settings, HttpClient http, int concurrency)
        {
            var timeout = TimeSpan.FromMilliseconds(settings.Llm.AiTimeoutMs);
            var taxonomy = DeepHeads.Default.Taxonomy;
            var llm = LlmClassifier.Create(settings.Llm.OpenAiBaseUrl, settings.Llm.OpenAiApiKey, settings.Llm.OpenAiModel, timeout, http, taxonomy);
            var cache = new ClassificationCache(50_000, TimeSpan.FromHours(1), CliApp.Time);
            var options = new AiOptions
            {
                Model = settings.Llm.OpenAiModel,
                CallTimeout = timeout,
                MaxConcurrency = concurrency,
                CircuitFailures = settings.Llm.AiCircuitFailures,
                CircuitBreak = TimeSpan.FromSeconds(settings.Llm.AiCircuitBreakSeconds),
                Prompt = PromptLibrary.Get(settings.Llm.PromptVersion),
                Canary = settings.Llm.Canary is { } c ? (PromptLibrary.Get(c.Name), c.Percent) : null,
                Redact = settings.Llm.RedactPii ? PiiRedactor.Redact : null,
            };
            var unwritten = new UnwrittenTokens();
            var budget = settings.Llm.LlmTokenBudgetMonthly is null ? null : new StoredLlmBudget(
                async (from, to, cancellationToken) => await MonthUsageAsync(settings, from, to, cancellationToken) + unwritten.Usage, settings.Llm.Pricing,
                CliApp.Time, NullLogger.Instance);
            var analyzer = new Analyzer(
                new LocalClassifier(), cache, new AiProvider(llm, options, cache, CliApp.Time, metrics: null, budget: budget), taxonomy: taxonomy);
            return new Classifier(analyzer, llm: true, $"the LLM ({settings.Llm.OpenAiModel}, prompt {options.Prompt.Name})",
                $"reclassified by the LLM {settings.Llm.OpenAiModel}", unwritten);
        }

        /// <summary>One answer per row, with no result where the LLM gave none (the stored answer then stands).</summary>
        public async Task<LaterAnswer[]> ClassifyAsync(List<StoredRow> rows, int concurrency)
        {
            var answers = new LaterAnswer[rows.Count];
            if (!_llm)
            {
                // In batches: the deep model encodes each one in a single run of the graph.
                var batches = rows.Chunk(256).ToArray();
                var results = new AnalysisResult[batches.Length][];
                Parallel.For(0, batches.Length, b => results[b] = _analyzer.AnalyzeMany([.. batches[b].Select(r => r.Text)]));
                return [.. results.SelectMany(r => r).Select(r => new LaterAnswer(r, LlmUsage.None))];
            }

            await Parallel.ForAsync(0, rows.Count, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, cancellationToken) =>
            {
                // Text too short to analyse is decided by the input rules, whoever is asked.
                var local = _analyzer.Analyze(rows[i].Text);
                answers[i] = local.Method == ProcessingMethod.Validation ? new LaterAnswer(local, LlmUsage.None) : await _analyzer.UpgradeAsync(rows[i].Text, cancellationToken);
                _unwritten.Add(answers[i].Usage);
            });
            return answers;
        }

        /// <summary>The store now holds these tokens of the run's calls.</summary>
        public void Written(LlmUsage usage) => _unwritten.Add(new LlmUsage(-usage.Calls, -usage.InputTokens, -usage.OutputTokens));

        /// <summary>The month's usage as the store holds it, on a connection of its own (the calls run in parallel).</summary>
        private static async Task<LlmUsage> MonthUsageAsync(CliSettings settings, DateTime from, DateTime to, CancellationToken cancellationToken)
        {
            await using var connection = CliStore.OpenReadOnly(settings);
            return await LlmUsageReads.SumAsync(connection, from, to, cancellationToken);
        }
    }

    /// <summary>The server's writer on the same store, for revisions only.</summary>
    private sealed class RevisionWriter : IAsyncDisposable
    {
        private const int Attempts = 3;

        private readonly GroupCommitWriter _writer;

        private RevisionWriter(GroupCommitWriter writer) => _writer = writer;

        public static async Task<RevisionWriter> StartAsync(CliSettings settings) => new(await CliStore.StartWriterAsync(settings));

        /// <summary>
        /// Queues every revision (and the tokens of the calls no revision carries) at once so the writer commits them
        /// together; a store busy with the server's own writes past the busy timeout is tried again.
        /// </summary>
        public async Task WriteAsync(List<Revision> revisions, LlmSpend? uncarried)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var writes = revisions.Select(r => (Task)_writer.ReviseAsync(r, CancellationToken.None)).ToList();
                    if (uncarried is not null)
                    {
                        writes.Add(_writer.RecordLlmUsageAsync(uncarried, CancellationToken.None));
                    }

                    await Task.WhenAll(writes);
                    return;
                }
                catch (StoreUnavailableException) when (attempt < Attempts)
                {
                    await Task.Delay(TimeSpan.FromSeconds(attempt));
                }
            }
        }

        public async ValueTask DisposeAsync() => await CliStore.StopWriterAsync(_writer);
    }

    /// <summary>The run's LLM usage that is not in the store yet, added to from the parallel calls.</summary>
    private sealed class UnwrittenTokens
    {
        private readonly Lock _gate = new();
        private LlmUsage _usage;

        public LlmUsage Usage
        {
            get
            {
                lock (_gate)
                {
                    return _usage;
                }
            }
        }

        public void Add(LlmUsage usage)
        {
            lock (_gate)
            {
                _usage += usage;
            }
        }
    }

    private sealed class ReclassifySummary
    {
        public long Read;
        public long Changed;
        public long SentimentChanged;
        public long TopicChanged;
        public long AlertsRaised;
        public long AlertsWithdrawn;
        public long NoAnswer;
        public long BudgetSpent;

        public void Count(bool sentiment, bool topic, bool alertBefore, bool alertNow)
        {
            Changed++;
            SentimentChanged += sentiment ? 1 : 0;
            TopicChanged += topic ? 1 : 0;
            AlertsRaised += alertNow && !alertBefore ? 1 : 0;
            AlertsWithdrawn += alertBefore && !alertNow ? 1 : 0;
        }

        public string Describe(ReclassifyOptions options, string classifier, TimeSpan elapsed)
        {
            var verb = options.DryRun ? "would change" : "changed";
            var text = string.Create(CultureInfo.InvariantCulture,
                $"Reclassified {Read:N0} rows received {options.From:yyyy-MM-dd HH:mm} to {options.To:yyyy-MM-dd HH:mm} UTC with {classifier}: " +
                $"{verb} {Changed:N0} ({SentimentChanged:N0} sentiment, {TopicChanged:N0} topic; alerts {AlertsRaised:N0} raised, {AlertsWithdrawn:N0} withdrawn), " +
                $"{Read - Changed - NoAnswer:N0} unchanged");
            if (NoAnswer > BudgetSpent)
            {
                text += string.Create(CultureInfo.InvariantCulture, $", {NoAnswer - BudgetSpent:N0} kept (the LLM gave no answer)");
            }

            if (BudgetSpent > 0)
            {
                text += string.Create(CultureInfo.InvariantCulture, $", {BudgetSpent:N0} kept (the month's LLM token budget, LLM_TOKEN_BUDGET_MONTHLY, is spent)");
            }

            text += string.Create(CultureInfo.InvariantCulture, $", in {elapsed.TotalSeconds:0.00} s ({Read / Math.Max(elapsed.TotalSeconds, 0.001):N0} rows/s).");
            return options.DryRun ? text + " Dry run: nothing was written." : text;
        }
    }

    internal sealed record ReclassifyOptions(DateTime From, DateTime To, bool UseLlm, int Concurrency, bool DryRun, bool Deep = true)
    {
        public static ReclassifyOptions? Create(string since, string until, string method, string? classifier, int concurrency, bool dryRun, DateTime now, out string error)
        {
            error = "";
            if (!TryParseWhen(since, now, out var from) || !TryParseWhen(until, now, out var to))
            {
                error = "--since and --until take a date or time (2026-11-01, 2026-11-01T12:00Z) or a duration (30m, 12h, 7d, 2w).";
                return null;
            }

            if (from >= to)
            {
                error = "--since must be before --until.";
                return null;
            }

            if (concurrency is < 1 or > 64)
            {
                error = "--concurrency is 1 to 64.";
                return null;
            }

            if (!LocalClassifiers.TryChoose(classifier, out var deep))
            {
                error = LocalClassifiers.Usage;
                return null;
            }

            return new ReclassifyOptions(from, to, method == "ai", concurrency, dryRun, deep);
        }

        /// <summary>A date or time (UTC unless it says otherwise), or a duration before <paramref name="now"/>.</summary>
        internal static bool TryParseWhen(string text, DateTime now, out DateTime when)
        {
            when = default;
            if (text.Length >= 2 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
            {
                TimeSpan? span = text[^1] switch
                {
                    'm' => TimeSpan.FromMinutes(amount),
                    'h' => TimeSpan.FromHours(amount),
                    'd' => TimeSpan.FromDays(amount),
                    'w' => TimeSpan.FromDays(7 * amount),
                    _ => null,
                };
                if (span is { } ago)
                {
                    when = now - ago;
                    return true;
                }
            }

            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
            {
                when = value.UtcDateTime;
                return true;
            }

            return false;
        }
    }
}
