using nietras.SeparatedValues;

namespace Feedback.Analysis.Evaluation;

/// <summary>One CSV record and the line of the file it starts on (a quoted field may span several lines).</summary>
internal sealed record CsvRecord(string[] Fields, int Line);

/// <summary>
/// Reads delimited text through Sep: quoted fields may hold the delimiter, doubled quotes and line breaks, a byte-order
/// mark is skipped, and blank lines are no records. Without a delimiter it is detected from the first line that is
/// not a '#' comment (the header), among <see cref="Delimiters"/>.
/// </summary>
internal static class CsvReader
{
    /// <summary>The delimiters told apart without being named: comma, semicolon, tab and vertical bar.</summary>
    public static readonly char[] Delimiters = [',', ';', '\t', '|'];

    public static IEnumerable<string[]> ReadRecords(TextReader reader, char? delimiter = null) =>
        ReadRecordsWithLines(reader, delimiter).Select(r => r.Fields);

    public static IEnumerable<CsvRecord> ReadRecordsWithLines(TextReader reader, char? delimiter = null)
    {
        ArgumentNullException.ThrowIfNull(reader);

        // The labelled sets are a few megabytes at most: read whole, the header can be looked at before Sep starts.
        var text = reader.ReadToEnd();
        var separator = delimiter ?? Detect(HeaderLine(text));
        using var records = Sep.New(separator).Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).FromText(text);
        foreach (var record in records)
        {
            if (record.ColCount == 1 && record[0].Span.IsEmpty)
            {
                continue;
            }

            var fields = new string[record.ColCount];
            for (var i = 0; i < fields.Length; i++)
            {
                fields[i] = record[i].ToString();
            }

            yield return new CsvRecord(fields, record.LineNumberFrom);
        }
    }

    /// <summary>The candidate delimiter the header holds most of; a comma when it holds none (a one-column file).</summary>
    public static char Detect(ReadOnlySpan<char> header)
    {
        var best = ',';
        var most = 0;
        foreach (var candidate in Delimiters)
        {
            var count = header.Count(candidate);
            if (count > most)
            {
                (best, most) = (candidate, count);
            }
        }

        return best;
    }

    private static ReadOnlySpan<char> HeaderLine(string text)
    {
        var rest = text.AsSpan().TrimStart('\uFEFF');
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf('\n');
            var line = end < 0 ? rest : rest[..end];
            if (!line.TrimStart().StartsWith('#') && !line.Trim().IsEmpty)
            {
                return line;
            }

            rest = end < 0 ? [] : rest[(end + 1)..];
        }

        return [];
    }
}
