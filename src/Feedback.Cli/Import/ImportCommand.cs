using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
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

    public const string Usage = """
        Usage: import FILE [options]
          --format csv|jsonl      input format (default: from the file extension)
          --text-column NAME      column or property holding the message (default: text)
          --id-column NAME        the row's own id: re-imports are matched on it (default: a hash of text, source, customer)
          --source-column NAME    (default: source)
          --customer-column NAME  (default: customer_id)
          --time-column NAME      when the message was received (default: now)
          --metadata-column NAME  JSONL only: an object stored as the message's metadata (default: metadata)
          --source VALUE          source for rows without one
          --alerts                raise alerts for rows the alert rule matches (default: off; historic rows do not page anyone)
          --batch N               rows per transaction (default: 5000)
          --classifier deep|fast  the sentence encoder and trained heads (default), or the lexical model alone (~100x faster)
        """;

    public static int Run(string[] args)
    {
        if (args is ["--help" or "-h"])
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var options = ImportOptions.Parse(args, out var error);
        if (options is null)
        {
            Console.Error.WriteLine(error);
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var settings = CliStore.Settings();
        var started = Stopwatch.GetTimestamp();

        // Loading the model (about half a second of CPU) and opening the store (about a second on a new DATA_DIR,
        // where the migrations build the schema) run beside reading the file instead of before it. A store that
        // does not exist yet holds no imported key, so only an existing one must be open before rows are keyed.
        var existing = CliStore.MayHoldRows(settings);
        var model = Task.Run(() => LocalClassifiers.Create(
            options.Deep, new ClassificationCache(50_000, TimeSpan.FromHours(1), TimeProvider.System), explain: false,
            new EncoderOptions(Threads: 1, KeepBuffers: true)));
        var store = Task.Run(() => CliStore.Open(settings));
        var known = existing ? ImportWriter.LoadKnownKeys(store.GetAwaiter().GetResult()) : [];
        using var connection = new Deferred<DbConnection>(store);
        var summary = new ImportSummary();
        using var input = ImportReader.Open(options.Path, options.Format, options.Columns);

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
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Imported {options.Path}: {summary.Read:N0} rows read, {summary.Added:N0} added, {summary.Skipped:N0} already stored, " +
            $"{summary.Invalid:N0} without text, in {elapsed.TotalSeconds:0.00} s ({summary.Read / Math.Max(elapsed.TotalSeconds, 0.001):N0} rows/s)."));
        return 0;
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
        var now = DateTime.UtcNow;
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
                WriteAll(chunk => writer.WriteBatchAsync(
                        chunk.ConvertAll(p => new NewFeedback(p.Record!, options.RaiseAlerts && p.Record!.AlertTriggered)), CancellationToken.None)
                    .GetAwaiter().GetResult().Count(r => r.Outcome == WriteOutcome.Created));
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

    /// <param name="Deep">Classify with the deep model (the default) rather than the lexical one (<c>--classifier fast</c>).</param>
    internal sealed record ImportOptions(string Path, string Format, ColumnMap Columns, string? Source, bool RaiseAlerts, int Batch, bool Deep = true)
    {
        public static ImportOptions? Parse(string[] args, out string error)
        {
            error = "";
            string? path = null, format = null, source = null;
            string text = "text", sourceColumn = "source", customer = "customer_id", metadata = "metadata";
            string? id = null, time = null;
            var alerts = false;
            var batch = DefaultBatch;
            string? classifier = null;
            for (var i = 0; i < args.Length; i++)
            {
                var arg = args[i];
                if (arg == "--alerts")
                {
                    alerts = true;
                    continue;
                }

                if (arg.StartsWith("--", StringComparison.Ordinal))
                {
                    if (i + 1 >= args.Length)
                    {
                        error = $"{arg} needs a value.";
                        return null;
                    }

                    var value = args[++i];
                    switch (arg)
                    {
                        case "--format": format = value; break;
                        case "--text-column": text = value; break;
                        case "--id-column": id = value; break;
                        case "--source-column": sourceColumn = value; break;
                        case "--customer-column": customer = value; break;
                        case "--time-column": time = value; break;
                        case "--metadata-column": metadata = value; break;
                        case "--source": source = value; break;
                        case "--classifier": classifier = value; break;
                        case "--batch" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 1_000_000:
                            batch = n;
                            break;
                        default:
                            error = $"Unknown option or bad value: {arg} {value}";
                            return null;
                    }

                    continue;
                }

                if (path is not null)
                {
                    error = $"Only one FILE, got '{path}' and '{arg}'.";
                    return null;
                }

                path = arg;
            }

            if (path is null)
            {
                error = "FILE is missing.";
                return null;
            }

            if (!File.Exists(path))
            {
                error = $"There is no file '{path}'.";
                return null;
            }

            format ??= System.IO.Path.GetExtension(path).ToLowerInvariant() is ".jsonl" or ".ndjson" or ".json" ? "jsonl" : "csv";
            if (format is not ("csv" or "jsonl"))
            {
                error = $"--format must be csv or jsonl (got '{format}').";
                return null;
            }

            if (!LocalClassifiers.TryChoose(classifier, out var deep))
            {
                error = LocalClassifiers.Usage;
                return null;
            }

            return new ImportOptions(path, format, new ColumnMap(text, id, sourceColumn, customer, time, metadata), source, alerts, batch, deep);
        }
    }
}
