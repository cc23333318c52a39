using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Feedback.Cli.Store;

namespace Feedback.Cli.Export;

/// <summary>export: stored messages with their answers, oldest first, as CSV or JSON Lines, to a file or standard output.</summary>
internal static class ExportCommand
{
    public const string Usage = """
        Usage: export [--format csv|jsonl] [--since DATE] [--out FILE]
          --format   csv (default) or jsonl
          --since    only messages received at or after DATE (ISO 8601, e.g. 2026-01-01)
          --out      write to FILE instead of standard output
        """;

    private static readonly string[] Columns =
    [
        "id", "created_at", "text", "source", "customer_id", "sentiment", "topic", "confidence_score", "confidence",
        "alert_triggered", "processing_method", "model", "prompt_version", "language", "status",
    ];

    public static int Run(string[] args)
    {
        string format = "csv";
        string? output = null;
        DateTime? since = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--format" when value is "csv" or "jsonl":
                    format = value;
                    i++;
                    break;
                case "--out" when value is not null:
                    output = value;
                    i++;
                    break;
                case "--since" when DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at):
                    since = at.UtcDateTime;
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"Bad option: {args[i]} {value}");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        using var connection = CliStore.Open(CliStore.Settings());
        using var command = connection.Command(
            $"SELECT {string.Join(", ", Columns)} FROM feedback WHERE created_at >= @since ORDER BY created_at, id", ("since", since ?? DateTime.MinValue));
        using var reader = command.ExecuteReader();

        using var stream = output is null ? Console.OpenStandardOutput() : File.Create(output);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16);
        var rows = format == "csv" ? WriteCsv(reader, writer) : WriteJsonLines(reader, stream, writer);
        writer.Flush();
        if (output is not null)
        {
            Console.Error.WriteLine($"Exported {rows:N0} messages to {output}.");
        }

        return 0;
    }

    private static long WriteCsv(DbDataReader reader, StreamWriter writer)
    {
        writer.Write(string.Join(',', Columns));
        writer.Write('\n');
        long rows = 0;
        while (reader.Read())
        {
            for (var i = 0; i < Columns.Length; i++)
            {
                if (i > 0)
                {
                    writer.Write(',');
                }

                writer.Write(Quote(Format(reader, i)));
            }

            writer.Write('\n');
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
    /// A CSV cell. One that a spreadsheet would read as a formula (it starts with =, +, -, @, a tab or a carriage
    /// return: customers write the text) gets a leading apostrophe, so opening the export runs nothing.
    /// </summary>
    private static string Quote(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
