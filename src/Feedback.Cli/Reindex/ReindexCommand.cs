using System.CommandLine;
using System.Data.Common;
using System.Diagnostics;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Cli.Store;
using Feedback.Storage;
using Spectre.Console;

namespace Feedback.Cli.Reindex;

/// <summary>
/// reindex [--chunk N]: gives the stored messages that have no sentence vector (stored before vectors were kept, or
/// while the encoder was not available) the vector the server stores with a new message. Rows are read by id, a chunk
/// at a time, and each chunk commits on its own: stopped half-way, a second run goes on with the rows still without a
/// vector. Works on the SQLite file and on PostgreSQL (DATABASE_URL), beside a running server.
/// </summary>
internal static class ReindexCommand
{
    public static Command Definition()
    {
        var chunk = new Option<int>("--chunk") { Description = "Rows encoded and committed together (1 to 100,000).", DefaultValueFactory = _ => 512 };
        var command = new Command("reindex", "Store a sentence vector for every message that has none, for GET /feedback/{id}/similar and similar_to.") { chunk };
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(chunk) is not (>= 1 and <= 100_000))
            {
                Console.Error.WriteLine("--chunk is 1 to 100,000.");
                return CommandLine.Usage;
            }

            return Run(parsed.GetValue(chunk));
        });
        return command.WithExamples("./run.sh reindex", "./run.sh reindex --chunk 2048");
    }

    private static int Run(int chunk)
    {
        var settings = CliStore.Settings();
        using var connection = CliStore.Open(settings);
        var rows = new UnindexedRows(connection);
        var total = rows.Count();
        var encoder = SharedEncoders.Get(new EncoderOptions(KeepBuffers: true)).Value;
        var summary = new ReindexSummary();
        var started = Stopwatch.GetTimestamp();
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(progress =>
                {
                    var task = progress.AddTask("Reindexing", maxValue: Math.Max(1, total));
                    Reindex(rows, encoder, chunk, summary, () =>
                    {
                        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                        task.Description = $"{summary.Read:N0} rows, {summary.Read / Math.Max(seconds, 0.001):N0} rows/s";
                        task.Value = summary.Read;
                    });
                    task.Value = task.MaxValue;
                });
        }
        else
        {
            Reindex(rows, encoder, chunk, summary, static () => { });
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        Console.WriteLine(
            $"reindex: {summary.Stored:N0} messages given a sentence vector, {summary.TooShort:N0} too short to encode, " +
            $"in {elapsed.TotalSeconds:0.0} s");
        return CommandLine.Ok;
    }

    private static void Reindex(UnindexedRows rows, SentenceEncoder encoder, int chunk, ReindexSummary summary, Action report)
    {
        long after = 0;
        while (rows.Next(after, chunk) is { Count: > 0 } read)
        {
            after = read[^1].Id;

            // As the server encodes a message: trimmed, cut to the analysed length and normalised; too short, never.
            var encoded = read.Where(r => !TextRules.IsShorterThan(r.Text.Trim(), TextRules.MinAnalysedLength)).ToList();
            var vectors = encoder.Encode([.. encoded.Select(r => TextRules.Normalise(TextRules.Truncate(r.Text.Trim(), TextRules.MaxAnalysedLength)))]);
            rows.Store(encoded.Select((r, i) => (r.Id, StoredEmbedding.Encode(vectors[i])!)));
            summary.Stored += encoded.Count;
            summary.TooShort += read.Count - encoded.Count;
            summary.Read += read.Count;
            report();
        }
    }

    private sealed class ReindexSummary
    {
        public long Read { get; set; }

        public long Stored { get; set; }

        public long TooShort { get; set; }
    }

    /// <summary>The rows without a vector, in id order (keyset), and the commit of a chunk's vectors.</summary>
    private sealed class UnindexedRows(DbConnection connection)
    {
        public long Count()
        {
            using var command = connection.Command("SELECT count(*) FROM feedback WHERE embedding IS NULL");
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }

        public List<(long Id, string Text)> Next(long afterId, int limit)
        {
            using var command = connection.Command(
                "SELECT id, text FROM feedback WHERE embedding IS NULL AND id > @after ORDER BY id LIMIT @limit", ("after", afterId), ("limit", limit));
            using var reader = command.ExecuteReader();
            var rows = new List<(long, string)>(limit);
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1)));
            }

            return rows;
        }

        /// <summary>One transaction per chunk; a row given a vector meanwhile (by a revision on the server) keeps it.</summary>
        public void Store(IEnumerable<(long Id, byte[] Embedding)> vectors)
        {
            using var transaction = connection.BeginTransaction();
            foreach (var (id, embedding) in vectors)
            {
                using var command = connection.Command("UPDATE feedback SET embedding = @embedding WHERE id = @id AND embedding IS NULL", ("embedding", embedding), ("id", id));
                command.Transaction = transaction;
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }
}
