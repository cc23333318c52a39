using System.CommandLine;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Local;
using Feedback.Storage;
using Feedback.Cli.Store;
using Microsoft.Data.Sqlite;
using Spectre.Console;

namespace Feedback.Cli.Import;

/// <summary>
/// import FILE: classifies every row with the local classifier and stores it in the API's store (the SQLite file or PostgreSQL).
/// Idempotent and resumable: each row gets the key <c>import:&lt;sha256&gt;</c> (of its id column when mapped,
/// else of its text, source and customer) in the unique <c>idempotency_key</c> column, so a row already
/// stored is skipped before it is classified and a second run of the same file adds nothing. Rows are
/// committed in batches, so an interrupted import keeps what it committed and the next run carries on.
/// </summary>
internal static class ImportCommand
{
    private const int DefaultBatch = 5000;

    /// <summary>Rows classified by one task: small enough that a few chunks in flight keep every core busy at little memory.</summary>
    private const int ChunkRows = 256;

    /// <summary>Chunks read ahead of the writer: each core can classify one while the next ones wait their turn.</summary>
    private static readonly int InFlightChunks = 4 * Environment.ProcessorCount;

    public static Command Definition()
    {
        var file = new Argument<string>("file") { Description = "A CSV (header row; any delimiter) or JSON Lines file; - reads standard input." };
        var format = CommandLine.OneOf("--format", "The input format (default: from the file's extension; csv for standard input).", null, "csv", "jsonl");
        var delimiter = CommandLine.Delimiter("CSV only: the delimiter (default: detected from the header among , ; \\t |).");
        var text = new Option<string>("--text-column") { Description = "The column or property holding the message.", HelpName = "name", DefaultValueFactory = _ => "text" };
        var id = new Option<string?>("--id-column") { Description = "The row's own id: re-imports are matched on it (default: a hash of text, source, customer).", HelpName = "name" };
        var sourceColumn = new Option<string>("--source-column") { Description = "The column holding the source.", HelpName = "name", DefaultValueFactory = _ => "source" };
        var customer = new Option<string>("--customer-column") { Description = "The column holding the customer id.", HelpName = "name", DefaultValueFactory = _ => "customer_id" };
        var time = new Option<string?>("--time-column") { Description = "When the message was received (default: now).", HelpName = "name" };
        var metadata = new Option<string>("--metadata-column") { Description = "JSON Lines only: an object stored as the message's metadata.", HelpName = "name", DefaultValueFactory = _ => "metadata" };
        var source = new Option<string?>("--source") { Description = "The source of rows without one.", HelpName = "value" };
        var alerts = new Option<bool>("--alerts") { Description = "Raise alerts for rows the alert rule matches (default: off; historic rows do not page anyone)." };
        var batch = new Option<int>("--batch") { Description = "Rows per transaction (1 to 1,000,000).", DefaultValueFactory = _ => DefaultBatch };
        var classifier = new Option<string?>("--classifier") { Description = "deep: the sentence encoder and trained heads (default, or CLASSIFIER); fast: the lexical model alone (~100x faster).", HelpName = "deep|fast" };
        var json = new Option<bool>("--json") { Description = "The summary as one JSON object." };
        var command = new Command("import", "Classify a CSV or JSON Lines file into the store (idempotent and resumable: rows stored already are skipped).")
        {
            file, format, delimiter, text, id, sourceColumn, customer, time, metadata, source, alerts, batch, classifier, json,
        };
        command.SetAction(parsed =>
        {
            var path = parsed.GetValue(file)!;
            if (path != "-" && !File.Exists(path))
            {
                Console.Error.WriteLine($"There is no file '{path}'.");
                return CommandLine.Usage;
            }

            if (parsed.GetValue(batch) is not (> 0 and <= 1_000_000))
            {
                Console.Error.WriteLine("--batch is 1 to 1,000,000.");
                return CommandLine.Usage;
            }

            if (!LocalClassifiers.TryChoose(parsed.GetValue(classifier), out var deep))
            {
                Console.Error.WriteLine(LocalClassifiers.Usage);
                return CommandLine.Usage;
            }

            var inputFormat = parsed.GetValue(format)
                ?? (System.IO.Path.GetExtension(path).ToLowerInvariant() is ".jsonl" or ".ndjson" or ".json" ? "jsonl" : "csv");
            return Run(new ImportOptions(
                path, inputFormat,
                new ColumnMap(parsed.GetValue(text)!, parsed.GetValue(id), parsed.GetValue(sourceColumn), parsed.GetValue(customer), parsed.GetValue(time), parsed.GetValue(metadata)),
                parsed.GetValue(delimiter), parsed.GetValue(source), parsed.GetValue(alerts), parsed.GetValue(batch), deep, parsed.GetValue(json)));
        });
        return command.WithExamples(
            "./run.sh import feedback.csv --id-column id --time-column received_at",
            "./run.sh import tickets.jsonl --text-column body --source zendesk",
            "./run.sh import export.csv --delimiter ';' --classifier fast --json",
            "cat feedback.csv | ./run.sh import - --id-column id");
    }

    private static int Run(ImportOptions options)
    {
        try
        {
            return Import(options);
        }
        catch (FormatException exception)
        {
            // What was committed before the bad row stays; a fixed file imports the rest, skipping what is stored.
            Console.Error.WriteLine($"{(options.Path == "-" ? "standard input" : options.Path)}: {exception.Message}");
            return CommandLine.Failure;
        }
    }

    private static int Import(ImportOptions options)
    {
        var settings = CliStore.Settings();
        var started = Stopwatch.GetTimestamp();

        // Loading the model (about half a second of CPU) and opening the store (about a second on a new DATA_DIR,
        // where the migrations build the schema) run beside reading the file instead of before it. A store that
        // does not exist yet holds no imported key, so only an existing one must be open before rows are keyed.
        var existing = CliStore.MayHoldRows(settings);
        var model = Task.Run(() => LocalClassifiers.Create(
            options.Deep, new ClassificationCache(50_000, TimeSpan.FromHours(1), CliApp.Time), explain: false,
            new EncoderOptions(Threads: 1, KeepBuffers: true)));
        var store = Task.Run(() => CliStore.Open(settings));
        var known = existing ? ImportWriter.LoadKnownKeys(store.GetAwaiter().GetResult()) : [];
        using var connection = new Deferred<DbConnection>(store);
        var summary = new ImportSummary();
        using var input = ImportReader.Open(options.Path, options.Format, options.Columns, options.Delimiter);

        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(progress =>
                {
                    var task = progress.AddTask("Importing", maxValue: Math.Max(1, input.Length));
                    Import(input, options, known, connection, model, settings, summary, () =>
                    {
                        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                        task.Description = $"{summary.Read:N0} rows, {summary.Read / Math.Max(seconds, 0.001):N0} rows/s";
                        task.Value = input.Position;
                    });
                    task.Value = task.MaxValue;
                });
        }
        else
        {
            Import(input, options, known, connection, model, settings, summary, static () => { });
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var rate = summary.Read / Math.Max(elapsed.TotalSeconds, 0.001);
        Console.WriteLine(options.Json
            ? JsonSerializer.Serialize(new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["file"] = options.Path,
                ["read"] = summary.Read,
                ["added"] = summary.Added,
                ["skipped"] = summary.Skipped,
                ["invalid"] = summary.Invalid,
                ["seconds"] = Math.Round(elapsed.TotalSeconds, 3),
                ["rows_per_second"] = Math.Round(rate),
            })
            : string.Create(CultureInfo.InvariantCulture,
                $"Imported {options.Path}: {summary.Read:N0} rows read, {summary.Added:N0} added, {summary.Skipped:N0} already stored, " +
                $"{summary.Invalid:N0} without text, in {elapsed.TotalSeconds:0.00} s ({rate:N0} rows/s)."));
        return CommandLine.Ok;
    }

    /// <summary>
    /// Reads and keys rows on one thread, classifies chunks of them on every core, and writes them in file order on this
    /// thread. A chunk is classified by one task, and the writer takes those tasks in the order the chunks were read,
    /// so the order holds without a barrier between batches; the bound keeps only a few chunks in memory.
    /// </summary>
    private static void Import(
        ImportReader input, ImportOptions options, HashSet<ImportKey> known, Deferred<DbConnection> connection, Task<Analyzer> analyzer,
        CliSettings settings, ImportSummary summary, Action report)
    {
        var alertRule = settings.Alerts.AlertRule;
        var now = CliApp.Time.GetUtcNow().UtcDateTime;
        var chunks = Channel.CreateBounded<Task<List<PendingRow>>>(InFlightChunks);

        // A chunk's task starts as soon as the chunk is read. Without the gate every chunk in flight is classified at
        // once, on more threads than cores, each deep run holding its own buffers (bench/RESULTS-import.md).
        using var classifying = new SemaphoreSlim(Environment.ProcessorCount);

        var reading = Task.Run(async () =>
        {
            try
            {
                var chunk = new List<PendingRow>(ChunkRows);
                foreach (var row in input.Rows())
                {
                    Interlocked.Increment(ref summary.Read);
                    if (string.IsNullOrWhiteSpace(row.Text))
                    {
                        Interlocked.Increment(ref summary.Invalid);
                        continue;
                    }

                    var key = ImportKey.For(row);
                    if (!known.Add(key))
                    {
                        Interlocked.Increment(ref summary.Skipped);
                        continue;
                    }

                    chunk.Add(new PendingRow(row, key));
                    if (chunk.Count == ChunkRows)
                    {
                        await chunks.Writer.WriteAsync(Classify(chunk));
                        chunk = new List<PendingRow>(ChunkRows);
                    }
                }

                if (chunk.Count > 0)
                {
                    await chunks.Writer.WriteAsync(Classify(chunk));
                }
            }
            finally
            {
                chunks.Writer.Complete();
            }
        });

        if (options.RaiseAlerts || settings.Store.PostgresConnectionString is not null)
        {
            // Alerts take the server's own path: grouped with near-duplicates and queued for every channel. So does every
            // row on PostgreSQL, where the server's writer sends a chunk in one round trip and settles keys stored already.
            connection.Wait();
            var writer = CliStore.StartWriterAsync(settings).GetAwaiter().GetResult();
            try
            {
                if (options.RaiseAlerts)
                {
                    WriteAll(chunk => writer.WriteBatchAsync(
                            chunk.ConvertAll(p => new NewFeedback(p.Record!, p.Record!.AlertTriggered)), CancellationToken.None)
                        .GetAwaiter().GetResult().Count(r => r.Outcome == WriteOutcome.Created));
                }
                else
                {
                    WriteOverlapped(writer);
                }
            }
            finally
            {
                CliStore.StopWriterAsync(writer).GetAwaiter().GetResult();
            }
        }
        else
        {
            using var writer = new ImportWriter((SqliteConnection)connection.Wait(), options.Batch);
            WriteAll(writer.Write);
            writer.Commit();
        }

        reading.GetAwaiter().GetResult();
        report();

        Task<List<PendingRow>> Classify(List<PendingRow> chunk) => Task.Run(async () =>
        {
            // A chunk at a time: the deep model encodes it in batches (one thread each, one chunk per core).
            var model = await analyzer;
            AnalysisResult[] results;
            await classifying.WaitAsync();
            try
            {
                results = model.AnalyzeMany([.. chunk.Select(p => p.Row.Text!)]);
            }
            finally
            {
                classifying.Release();
            }

            for (var i = 0; i < chunk.Count; i++)
            {
                var pending = chunk[i];
                var result = results[i];
                var record = new FeedbackRecord
                {
                    Text = pending.Row.Text!,
                    Source = pending.Row.Source ?? options.Source,
                    CustomerId = pending.Row.CustomerId,
                    Metadata = pending.Row.Metadata,
                    CreatedAt = pending.Row.CreatedAt ?? now,
                    IdempotencyKey = pending.Key.ToString(),
                };
                record.Apply(result, alertRule.Triggers(result), model.Taxonomy);
                pending.Record = record;
            }

            return chunk;
        });

        void WriteAll(Func<List<PendingRow>, int> write)
        {
            foreach (var classified in chunks.Reader.ReadAllAsync().ToBlockingEnumerable())
            {
                var chunk = classified.GetAwaiter().GetResult();
                var added = write(chunk);
                summary.Added += added;
                summary.Skipped += chunk.Count - added;
                report();
            }
        }

        // Rows to PostgreSQL without alerts: --batch rows per transaction, which the writer copies in, and the next batch
        // gathered from the classified chunks while the previous one commits. One batch in flight at a time, so the rows
        // still reach the store in file order and an interrupted import keeps whole batches.
        void WriteOverlapped(GroupCommitWriter writer)
        {
            Task<IReadOnlyList<WriteResult>>? committing = null;
            var rows = new List<NewFeedback>(options.Batch);
            foreach (var classified in chunks.Reader.ReadAllAsync().ToBlockingEnumerable())
            {
                foreach (var pending in classified.GetAwaiter().GetResult())
                {
                    rows.Add(new NewFeedback(pending.Record!, RaiseAlert: false));
                    if (rows.Count == options.Batch)
                    {
                        Settle(committing);
                        committing = writer.WriteBatchAsync(rows, CancellationToken.None);
                        rows = new List<NewFeedback>(options.Batch);
                    }
                }
            }

            Settle(committing);
            if (rows.Count > 0)
            {
                Settle(writer.WriteBatchAsync(rows, CancellationToken.None));
            }
        }

        void Settle(Task<IReadOnlyList<WriteResult>>? committing)
        {
            if (committing is null)
            {
                return;
            }

            var results = committing.GetAwaiter().GetResult();
            var added = results.Count(r => r.Outcome == WriteOutcome.Created);
            summary.Added += added;
            summary.Skipped += results.Count - added;
            report();
        }
    }

    /// <summary>A disposable value still being made: waited for where it is first needed, disposed if it was made.</summary>
    private sealed class Deferred<T>(Task<T> making) : IDisposable
        where T : IDisposable
    {
        public T Wait() => making.GetAwaiter().GetResult();

        public void Dispose()
        {
            if (making.IsCompletedSuccessfully)
            {
                making.Result.Dispose();
            }
        }
    }

    internal sealed class PendingRow(ImportRow row, ImportKey key)
    {
        public ImportRow Row { get; } = row;

        public ImportKey Key { get; } = key;

        public FeedbackRecord? Record { get; set; }
    }

    private sealed class ImportSummary
    {
        public long Read;
        public long Added;
        public long Skipped;
        public long Invalid;
    }

    /// <param name="Delimiter">The CSV delimiter given with <c>--delimiter</c>; null: detected from the header.</param>
    /// <param name="Deep">Classify with the deep model (the default) rather than the lexical one (<c>--classifier fast</c>).</param>
    /// <param name="Json">Print the summary as JSON.</param>
    internal sealed record ImportOptions(string Path, string Format, ColumnMap Columns, char? Delimiter, string? Source, bool RaiseAlerts, int Batch, bool Deep = true, bool Json = false);
}
