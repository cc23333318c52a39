using Microsoft.Extensions.Configuration;

namespace Feedback.Storage;

/// <summary>
/// Reads KEY=VALUE lines from a .env file as the lowest-priority configuration source, so a variable set
/// in the environment always wins. Quotes around a value are removed; # starts a comment line.
/// </summary>
internal sealed class DotEnvSource(string path) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new DotEnvProvider(path);

    public static Dictionary<string, string?> Parse(IEnumerable<string> lines)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var key = line[..equals].Trim();
            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0])
            {
                value = value[1..^1];
            }

            values[key] = value;
        }

        return values;
    }

    private sealed class DotEnvProvider(string path) : ConfigurationProvider
    {
        public override void Load() =>
            Data = File.Exists(path) ? Parse(File.ReadLines(path)) : new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
    }
}
