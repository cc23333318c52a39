using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Feedback.Cli.Import;

/// <summary>One input row, mapped to the fields of a message. <see cref="SourceId"/> is the row's own id, if mapped.</summary>
internal sealed record ImportRow(long Line, string? Text, string? SourceId, string? Source, string? CustomerId, DateTime? CreatedAt, string? Metadata);

/// <summary>Which input column or property feeds which field.</summary>
internal sealed record ColumnMap(string Text, string? Id, string? Source, string? CustomerId, string? Time, string? Metadata);

/// <summary>Reads CSV (RFC 4180, header row) or JSON Lines into rows; <see cref="Position"/> is how far into the file it got.</summary>
internal abstract class ImportReader(Stream stream) : IDisposable
{
    protected Stream Stream { get; } = stream;

    public long Position => Stream.Position;

    public long Length => Stream.Length;

    public static ImportReader Open(string path, string format, ColumnMap map)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return format == "jsonl" ? new JsonLinesReader(stream, map) : new CsvRowReader(stream, map);
    }

    public abstract IEnumerable<ImportRow> Rows();

    public void Dispose() => Stream.Dispose();

    protected static DateTime? ParseTime(string? text, long line)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value.UtcDateTime
            : throw new FormatException($"line {line}: '{text}' is not a date or time.");
    }
}

internal sealed class CsvRowReader(Stream stream, ColumnMap map) : ImportReader(stream)
{
    public override IEnumerable<ImportRow> Rows()
    {
        using var reader = new StreamReader(Stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16, leaveOpen: true);
        var fields = new List<string>();
        var field = new StringBuilder();
        long line = 0;
        if (!ReadRecord(reader, fields, field, ref line))
        {
            yield break;
        }

        var header = fields.Select(f => f.Trim()).ToList();
        int Index(string? name, bool required)
        {
            if (name is null)
            {
                return -1;
            }

            var index = header.FindIndex(h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
            return index >= 0 || !required ? index : throw new FormatException($"the header has no column '{name}' (columns: {string.Join(", ", header)}).");
        }

        var text = Index(map.Text, required: true);
        var id = Index(map.Id, required: true);
        var source = Index(map.Source, required: false);
        var customer = Index(map.CustomerId, required: false);
        var time = Index(map.Time, required: true);
        while (ReadRecord(reader, fields, field, ref line))
        {
            if (fields.Count == 1 && fields[0].Length == 0)
            {
                continue;
            }

            string? At(int index) => index >= 0 && index < fields.Count ? fields[index] : null;
            yield return new ImportRow(line, At(text), At(id), NullIfEmpty(At(source)), NullIfEmpty(At(customer)), ParseTime(At(time), line), null);
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>Reads one record; quoted fields may hold commas, doubled quotes and line breaks.</summary>
    private static bool ReadRecord(StreamReader reader, List<string> fields, StringBuilder field, ref long line)
    {
        fields.Clear();
        field.Clear();
        var quoted = false;
        var any = false;
        line++;
        while (true)
        {
            var c = reader.Read();
            if (c < 0)
            {
                if (!any)
                {
                    return false;
                }

                fields.Add(field.ToString());
                return true;
            }

            any = true;
            if (quoted)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        field.Append((char)reader.Read());
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    field.Append((char)c);
                }
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\n')
            {
                fields.Add(field.ToString());
                return true;
            }
            else if (c != '\r')
            {
                field.Append((char)c);
            }
        }
    }
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
            return new ImportRow(line, Get(map.Text), Get(map.Id), Get(map.Source), Get(map.CustomerId), ParseTime(Get(map.Time), line), metadata);
        }
        catch (JsonException exception)
        {
            throw new FormatException($"line {line}: not valid JSON ({exception.Message})", exception);
        }
    }
}
