using System.Globalization;
using System.Text;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>One sample line: a series name, its labels and its value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var value) ? value : "";
}

/// <summary>A metric family: the name of its # TYPE line, its type, its help text and its samples.</summary>
public sealed class PrometheusFamily(string name, string type)
{
    public string Name { get; } = name;

    public string Type { get; internal set; } = type;

    public string? Help { get; set; }

    public List<PrometheusSample> Samples { get; } = [];
}

/// <summary>
/// A strict parser of the Prometheus text exposition format (version 0.0.4): # HELP and # TYPE lines, samples
/// with optional labels and timestamp, escaped label values and help text. Anything it cannot read is a
/// <see cref="FormatException"/> naming the line, so a test that parses a scrape also checks its syntax.
/// </summary>
public sealed class PrometheusText
{
    private static readonly string[] Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    private readonly Dictionary<string, PrometheusFamily> _families = new(StringComparer.Ordinal);
    private readonly HashSet<string> _typed = new(StringComparer.Ordinal);

    private PrometheusText()
    {
    }

    public IReadOnlyDictionary<string, PrometheusFamily> Families => _families;

    /// <summary>Every sample of one series name (e.g. feedback_latency_seconds_bucket).</summary>
    public IEnumerable<PrometheusSample> Series(string name) =>
        _families.Values.SelectMany(f => f.Samples).Where(s => string.Equals(s.Name, name, StringComparison.Ordinal));

    /// <summary>The sum of one series' values over the samples whose labels include every given pair.</summary>
    public double Sum(string name, params (string Label, string Value)[] match) =>
        Series(name).Where(s => match.All(m => string.Equals(s.Label(m.Label), m.Value, StringComparison.Ordinal))).Sum(s => s.Value);

    public static PrometheusText Parse(string text)
    {
        var scrape = new PrometheusText();
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            try
            {
                scrape.ReadLine(line);
            }
            catch (FormatException exception)
            {
                throw new FormatException($"Line {lineNumber}: {exception.Message} [{line}]", exception);
            }
        }

        return scrape;
    }

    private void ReadLine(string line)
    {
        if (line.Length == 0)
        {
            return;
        }

        if (line[0] == '#')
        {
            ReadComment(line);
            return;
        }

        var sample = ReadSample(line);
        var family = FamilyOf(sample.Name);
        if (family is null)
        {
            // A sample before (or without) any # TYPE line is untyped, and its family is named after it.
            family = new PrometheusFamily(sample.Name, "untyped");
            _families.Add(sample.Name, family);
        }

        family.Samples.Add(sample);
    }

    private void ReadComment(string line)
    {
        var parts = line.Split([' ', '\t'], 4, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3 || parts[0] != "#" || (parts[1] != "HELP" && parts[1] != "TYPE"))
        {
            return;
        }

        var name = parts[2];
        RequireMetricName(name);
        if (parts[1] == "TYPE")
        {
            var type = parts.Length == 4 ? parts[3].Trim() : throw new FormatException($"# TYPE {name} has no type.");
            if (!Types.Contains(type, StringComparer.Ordinal))
            {
                throw new FormatException($"Unknown metric type '{type}'.");
            }

            if (!_typed.Add(name))
            {
                throw new FormatException($"A second # TYPE line for {name}.");
            }

            if (_families.TryGetValue(name, out var existing))
            {
                // Only a # HELP line may come first.
                existing.Type = existing.Samples.Count == 0 ? type : throw new FormatException($"# TYPE {name} comes after its samples.");
            }
            else
            {
                _families.Add(name, new PrometheusFamily(name, type));
            }

            return;
        }

        var help = Unescape(parts.Length == 4 ? parts[3] : "");
        if (_families.TryGetValue(name, out var family))
        {
            family.Help = family.Help is null ? help : throw new FormatException($"A second # HELP line for {name}.");
        }
        else
        {
            _families.Add(name, new PrometheusFamily(name, "untyped") { Help = help });
        }
    }

    private PrometheusFamily? FamilyOf(string sampleName)
    {
        if (_families.TryGetValue(sampleName, out var exact))
        {
            return exact;
        }

        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal)
                && _families.TryGetValue(sampleName[..^suffix.Length], out var family)
                && (family.Type == "histogram" || (family.Type == "summary" && suffix != "_bucket")))
            {
                return family;
            }
        }

        return null;
    }

    private static PrometheusSample ReadSample(string line)
    {
        var at = 0;
        var nameEnd = at;
        while (nameEnd < line.Length && IsNameChar(line[nameEnd], nameEnd == 0, allowColon: true))
        {
            nameEnd++;
        }

        var name = line[..nameEnd];
        RequireMetricName(name);
        at = nameEnd;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (at < line.Length && line[at] == '{')
        {
            at = ReadLabels(line, at + 1, labels);
        }

        var rest = line[at..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length is < 1 or > 2 || (at < line.Length && line[at] != ' ' && line[at] != '\t'))
        {
            throw new FormatException("Expected a value and an optional timestamp after the series.");
        }

        var value = ParseValue(rest[0]);
        if (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw new FormatException($"'{rest[1]}' is not a timestamp in milliseconds.");
        }

        return new PrometheusSample(name, labels, value);
    }

    /// <summary>Reads name="value" pairs up to the closing brace; returns the position after it.</summary>
    private static int ReadLabels(string line, int at, Dictionary<string, string> labels)
    {
        while (true)
        {
            at = SkipBlanks(line, at);
            if (at < line.Length && line[at] == '}')
            {
                return at + 1;
            }

            var nameStart = at;
            while (at < line.Length && IsNameChar(line[at], at == nameStart, allowColon: false))
            {
                at++;
            }

            var name = line[nameStart..at];
            if (name.Length == 0)
            {
                throw new FormatException($"Expected a label name at column {nameStart + 1}.");
            }

            at = SkipBlanks(line, at);
            var quote = at < line.Length && line[at] == '=' ? SkipBlanks(line, at + 1) : line.Length;
            if (quote >= line.Length || line[quote] != '"')
            {
                throw new FormatException($"Expected =\"...\" after label {name}.");
            }

            at = quote + 1;
            var value = new StringBuilder();
            while (true)
            {
                if (at >= line.Length)
                {
                    throw new FormatException($"The value of label {name} is not closed.");
                }

                var c = line[at++];
                if (c == '"')
                {
                    break;
                }

                if (c == '\\')
                {
                    value.Append(at < line.Length ? Escaped(line[at++], inLabel: true) : throw new FormatException("A backslash ends the line."));
                }
                else
                {
                    value.Append(c);
                }
            }

            if (!labels.TryAdd(name, value.ToString()))
            {
                throw new FormatException($"Label {name} appears twice.");
            }

            at = SkipBlanks(line, at);
            if (at < line.Length && line[at] == ',')
            {
                at++;
            }
            else if (at >= line.Length || line[at] != '}')
            {
                throw new FormatException($"Expected , or }} after label {name}.");
            }
        }
    }

    private static double ParseValue(string text) => text switch
    {
        "NaN" => double.NaN,
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"'{text}' is not a sample value."),
    };

    private static string Unescape(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                result.Append(Escaped(text[++i], inLabel: false));
            }
            else
            {
                result.Append(text[i]);
            }
        }

        return result.ToString();
    }

    /// <summary>
    /// \\ and \n everywhere, \" in label values; any other backslash pair stays as written, as Prometheus
    /// itself reads it.
    /// </summary>
    private static string Escaped(char c, bool inLabel) => c switch
    {
        '\\' => "\\",
        'n' => "\n",
        '"' when inLabel => "\"",
        _ => "\\" + c,
    };

    private static void RequireMetricName(string name)
    {
        if (name.Length == 0 || !name.Select((c, i) => IsNameChar(c, i == 0, allowColon: true)).All(ok => ok))
        {
            throw new FormatException($"'{name}' is not a metric name.");
        }
    }

    private static bool IsNameChar(char c, bool first, bool allowColon) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' || (allowColon && c == ':') || (!first && c is >= '0' and <= '9');

    private static int SkipBlanks(string line, int at)
    {
        while (at < line.Length && (line[at] == ' ' || line[at] == '\t'))
        {
            at++;
        }

        return at;
    }
}
