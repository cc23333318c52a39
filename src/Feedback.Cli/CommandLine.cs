namespace Feedback.Cli;

/// <summary>The few options the commands take: flags, "--name value" pairs and positional arguments.</summary>
internal sealed class CommandLine
{
    private readonly HashSet<string> flags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public string? Error { get; private set; }

    public static CommandLine Parse(IReadOnlyList<string> args, string[] flags, string[] valued)
    {
        var parsed = new CommandLine();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (flags.Contains(arg, StringComparer.Ordinal))
            {
                parsed.flags.Add(arg);
            }
            else if (valued.Contains(arg, StringComparer.Ordinal))
            {
                if (i + 1 >= args.Count)
                {
                    parsed.Error = $"{arg} needs a value.";
                    return parsed;
                }

                parsed.values[arg] = args[++i];
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                parsed.Error = $"Unknown option {arg}.";
                return parsed;
            }
            else
            {
                parsed.Positional.Add(arg);
            }
        }

        return parsed;
    }

    public bool Has(string flag) => flags.Contains(flag);

    public string? Value(string name) => values.GetValueOrDefault(name);
}
