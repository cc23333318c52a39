using System.Text;

namespace Feedback.Analysis.Evaluation;

/// <summary>Reads RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks.</summary>
internal static class CsvReader
{
    public static IEnumerable<string[]> ReadRecords(TextReader reader)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var inQuotes = false;
        var recordStarted = false;
        int next;
        while ((next = reader.Read()) >= 0)
        {
            var c = (char)next;
            if (inQuotes)
            {
                if (c != '"')
                {
                    field.Append(c);
                }
                else if (reader.Peek() == '"')
                {
                    _ = reader.Read();
                    field.Append('"');
                }
                else
                {
                    inQuotes = false;
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inQuotes = true;
                    recordStarted = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    recordStarted = true;
                    break;
                case '\r':
                    break;
                case '\n':
                    if (recordStarted || field.Length > 0)
                    {
                        fields.Add(field.ToString());
                        yield return fields.ToArray();
                    }

                    fields.Clear();
                    field.Clear();
                    recordStarted = false;
                    break;
                default:
                    field.Append(c);
                    recordStarted = true;
                    break;
            }
        }

        if (inQuotes)
        {
            throw new InvalidDataException("The CSV ends inside a quoted field.");
        }

        if (recordStarted || field.Length > 0)
        {
            fields.Add(field.ToString());
            yield return fields.ToArray();
        }
    }
}
