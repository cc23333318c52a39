using System.Globalization;
using System.Text;
using System.Text.Json;
using Feedback.Analysis.Evaluation;
using nietras.SeparatedValues;

namespace Feedback.Cli.Import;

/// <summary>One input row, mapped to the fields of a message. <see cref="SourceId"/> is the row's own id, if mapped.</summary>
internal sealed record ImportRow(long Line, string? Text, string? SourceId, string? Source, string? CustomerId, DateTime? CreatedAt, string? Metadata);

/// <summary>Which input column or property feeds which field.</summary>
internal sealed record ColumnMap(string Text, string? Id, string? Source, string? CustomerId, string? Time, string? Metadata);

/// <summary>Reads CSV (header row) or JSON Lines into rows; <see cref="Position"/> is how far into the input it got.</summary>
internal abstract class ImportReader(Stream stream) : IDisposable
{
    protected Stream Stream { get; } = stream;

    /// <summary>0 on standard input, which has no position or length.</summary>
    public long Position => Stream.CanSeek ? Stream.Position : 0;

    public long Length => Stream.CanSeek ? Stream.Length : 0;

    /// <param name="path">A file, or - for standard input.</param>
    /// <param name="delimiter">The CSV delimiter; null: detected from the header.</param>
    public static ImportReader Open(string path, string format, ColumnMap map, char? delimiter)
    {
        var stream = path == "-"
            ? Console.OpenStandardInput()
            : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return format == "jsonl" ? new JsonLinesReader(stream, map) : new CsvRowReader(stream, map, delimiter);
    }

    public abstract IEnumerable<ImportRow> Rows();

    public void Dispose() => Stream.Dispose();

    protected static DateTime? ParseTime(string? text, string where)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value.UtcDateTime
            : throw new FormatException($"{where}: '{text}' is not a date or time.");
    }
}

/// <summary>
/// CSV through Sep: any of the delimiters <see cref="CsvReader.Delimiters"/> (detected from the header unless given),
/// a byte-order mark, quoted fields holding the delimiter, doubled quotes and line breaks. A row is named in errors by
/// its record number and the line it starts on, which differ once a quoted field spans lines.
/// </summary>
internal sealed class CsvRowReader(Stream stream, ColumnMap map, char? delimiter) : ImportReader(stream)
{
    public override IEnumerable<ImportRow> Rows()
    {
        using var text = new StreamReader(Stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16, leaveOpen: true);
        using var reader = Sep.Reader(o => o with
        {
            Sep = delimiter is { } given ? new Sep(given) : null,
            Unescape = true,
            DisableColCountCheck = true,
            ColNameComparer = StringComparer.OrdinalIgnoreCase,
        }).From(text);
        if (reader.Header.IsEmpty)
        {
            yield break;
        }

        var header = reader.Header.ColNames.Select(h => h.Trim()).ToList();
        int Index(string? name, bool required)
        {
            if (name is null)
            {
                return -1;
            }

            var index = header.FindIndex(h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
            return index >= 0 || !required
                ? index
                : throw new FormatException($"the header has no column '{name}' (columns: {string.Join(", ", header)}; delimiter '{Printable(reader.Spec.Sep.Separator)}').");
        }

        var textColumn = Index(map.Text, required: true);
        var id = Index(map.Id, required: true);
        var source = Index(map.Source, required: false);
        var customer = Index(map.CustomerId, required: false);
        var time = Index(map.Time, required: true);
        long record = 0;
        foreach (var row in reader)
        {
            record++;
            if (row.ColCount == 1 && row[0].Span.IsEmpty)
            {
                continue;
            }

            yield return new ImportRow(
                row.LineNumberFrom, At(row, textColumn), At(row, id), NullIfEmpty(At(row, source)), NullIfEmpty(At(row, customer)),
                ParseTime(At(row, time), $"record {record} (line {row.LineNumberFrom})"), null);
        }
    }

    private static string? At(SepReader.Row row, int index) => index >= 0 && index < row.ColCount ? row[index].ToString() : null;

    private static string Printable(char delimiter) => delimiter == '\t' ? "\\t" : delimiter.ToString();

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

internal sealed class JsonLinesReader(Stream stream, ColumnMap map) : ImportReader(stream)
{
    public override IEnumerable<ImportRow> Rows()
    {
        using var reader = new StreamReader(Stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16, leaveOpen: true);
        long line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            yield return Parse(text, line);
        }
    }

    private ImportRow Parse(string json, long line)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"line {line}: not a JSON object.");
            }

            string? Get(string? name) =>
                name is not null && root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
                    ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
                    : null;
            var metadata = map.Metadata is not null && root.TryGetProperty(map.Metadata, out var meta) && meta.ValueKind == JsonValueKind.Object
                ? meta.GetRawText()
                : null;
            return new ImportRow(line, Get(map.Text), Get(map.Id), Get(map.Source), Get(map.CustomerId), ParseTime(Get(map.Time), $"line {line}"), metadata);
        }
        catch (JsonException exception)
        {
            throw new FormatException($"line {line}: not valid JSON ({exception.Message})", exception);
        }
    }
}
