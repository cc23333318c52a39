using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Feedback.Cli.Store;
using nietras.SeparatedValues;

namespace Feedback.Cli.Export;

/// <summary>export: stored messages with their answers, oldest first, as CSV or JSON Lines, to a file or standard output.</summary>
internal static class ExportCommand
{
    private static readonly string[] Columns =
    [
        "id", "created_at", "text", "source", "customer_id", "sentiment", "topic", "confidence_score", "confidence",
        "alert_triggered", "processing_method", "model", "prompt_version", "language", "status",
    ];

    public static Command Definition()
    {
        var format = CommandLine.OneOf("--format", "csv or jsonl (JSON Lines).", "csv", "csv", "jsonl");
        var since = CommandLine.Date("--since", "Only messages received at or after this date or time (ISO 8601, e.g. 2026-01-01).");
        var output = new Option<string?>("--out") { Description = "Write to this file instead of standard output.", HelpName = "file" };
        var delimiter = CommandLine.Delimiter("CSV only: the delimiter (default ,; a ; suits spreadsheets set to a decimal comma, \\t makes TSV).");
        var command = new Command("export", "Stored messages with their answers, oldest first, as CSV or JSON Lines.") { format, since, output, delimiter };
        command.SetAction(parsed => Run(parsed.GetValue(format)!, parsed.GetValue(since), parsed.GetValue(output), parsed.GetValue(delimiter) ?? ','));
        return command.WithExamples(
            "./run.sh export > feedback.csv",
            "./run.sh export --format jsonl --since 2026-11-01 --out november.jsonl",
            "./run.sh export --delimiter ';' --out feedback.csv");
    }

    private static int Run(string format, DateTime? since, string? output, char delimiter)
    {
        using var connection = CliStore.Open(CliStore.Settings());
        using var command = connection.Command(
            $"SELECT {string.Join(", ", Columns)} FROM feedback WHERE created_at >= @since ORDER BY created_at, id", ("since", since ?? DateTime.MinValue));
        using var reader = command.ExecuteReader();

        using var stream = output is null ? Console.OpenStandardOutput() : File.Create(output);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16);
        var rows = format == "csv" ? WriteCsv(reader, writer, delimiter) : WriteJsonLines(reader, stream, writer);
        writer.Flush();
        if (output is not null)
        {
            Console.Error.WriteLine($"Exported {rows:N0} messages to {output}.");
        }

        return 0;
    }

    /// <summary>Through Sep: a cell holding the delimiter, a quote or a line break is quoted, its quotes doubled.</summary>
    private static long WriteCsv(DbDataReader reader, StreamWriter writer, char delimiter)
    {
        using var csv = Sep.New(delimiter).Writer(o => o with { Escape = true }).To(writer, leaveOpen: true);
        csv.Header.Add(Columns);
        long rows = 0;
        while (reader.Read())
        {
            using var row = csv.NewRow();
            for (var i = 0; i < Columns.Length; i++)
            {
                row[Columns[i]].Set(Neutralise(Format(reader, i)));
            }

            rows++;
        }

        return rows;
    }

    private static long WriteJsonLines(DbDataReader reader, Stream stream, StreamWriter writer)
    {
        long rows = 0;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        while (reader.Read())
        {
            buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteNumber("id", reader.GetInt64(0));
                json.WriteString("created_at", DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc));
                for (var i = 2; i < Columns.Length; i++)
                {
                    if (reader.IsDBNull(i))
                    {
                        json.WriteNull(Columns[i]);
                    }
                    else if (Columns[i] == "confidence")
                    {
                        json.WriteNumber(Columns[i], reader.GetDouble(i));
                    }
                    else if (Columns[i] == "alert_triggered")
                    {
                        json.WriteBoolean(Columns[i], reader.GetBoolean(i));
                    }
                    else
                    {
                        json.WriteString(Columns[i], reader.GetString(i));
                    }
                }

                json.WriteEndObject();
            }

            writer.Flush();
            stream.Write(buffer.WrittenSpan);
            stream.WriteByte((byte)'\n');
            rows++;
        }

        return rows;
    }

    private static string Format(DbDataReader reader, int i) => reader.IsDBNull(i) ? "" : Columns[i] switch
    {
        "created_at" => DateTime.SpecifyKind(reader.GetDateTime(i), DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        "confidence" => reader.GetDouble(i).ToString("0.####", CultureInfo.InvariantCulture),
        "alert_triggered" => reader.GetBoolean(i) ? "true" : "false",
        _ => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>
    /// A CSV cell that a spreadsheet would read as a formula (it starts with =, +, -, @, a tab or a carriage return:
    /// customers write the text) gets a leading apostrophe, so opening the export runs nothing.
    /// </summary>
    private static string Neutralise(string value) =>
        value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;
}
