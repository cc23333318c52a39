using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Feedback.Cli;

/// <summary>
/// What every command shares, through System.CommandLine: <c>--help</c> with usage and examples (exit 0), <c>--version</c>,
/// the exit codes below, and shell completion through the library's <c>[suggest]</c> directive (dotnet-suggest).
/// </summary>
internal static class CommandLine
{
    public const int Ok = 0;

    public const int Failure = 1;

    /// <summary>The command line itself was wrong: an unknown option, a missing argument, a value out of range.</summary>
    public const int Usage = 2;

    private static readonly ConditionalWeakTable<Command, string[]> ExamplesOf = new();

    /// <summary>Invocations shown under "Examples:" in the command's help, as a user would type them.</summary>
    public static T WithExamples<T>(this T command, params string[] examples)
        where T : Command
    {
        ExamplesOf.AddOrUpdate(command, examples);
        return command;
    }

    /// <summary>An option whose value must be one of <paramref name="values"/>; completion offers them.</summary>
    public static Option<string> OneOf(string name, string description, string? defaultValue, params string[] values)
    {
        var option = new Option<string>(name) { Description = description, HelpName = string.Join('|', values) };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }

        option.AcceptOnlyFromAmong(values);
        return option;
    }

    /// <summary>A date or time, UTC unless it names an offset (2026-11-01, 2026-11-01T12:00+01:00).</summary>
    public static Option<DateTime?> Date(string name, string description)
    {
        var option = new Option<DateTime?>(name) { Description = description, HelpName = "date" };
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                return at.UtcDateTime;
            }

            result.AddError($"{name} takes a date or time (ISO 8601, e.g. 2026-01-01), not '{text}'.");
            return null;
        };
        return option;
    }

    /// <summary>A CSV delimiter: one character, or \t (or "tab") for a tab, which a shell passes poorly as itself.</summary>
    public static Option<char?> Delimiter(string description)
    {
        var option = new Option<char?>("--delimiter") { Description = description, HelpName = "char" };
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (text is "\\t" or "tab")
            {
                return '\t';
            }

            if (text.Length == 1 && text[0] is not ('"' or '\r' or '\n'))
            {
                return text[0];
            }

            result.AddError($"--delimiter is one character other than a quote or a line break (or \\t for a tab), not '{text}'.");
            return null;
        };
        return option;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/> against <paramref name="root"/>. A parse error prints what was wrong and
    /// where the usage is, on standard error, and exits 2: a script can tell a typo from a failed run.
    /// </summary>
    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExamples((HelpAction)help.Action!);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is ParseErrorAction)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message);
            }

            await Console.Error.WriteLineAsync($"See '{string.Join(' ', [root.Name, .. CommandPath(parsed.CommandResult.Command), "--help"])}' for the usage.");
            return Usage;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static IEnumerable<string> CommandPath(Command command)
    {
        var names = new Stack<string>();
        for (Symbol? symbol = command; symbol is Command { } current and not RootCommand; symbol = current.Parents.FirstOrDefault())
        {
            names.Push(current.Name);
        }

        return names;
    }

    /// <summary>The library's help, then the command's examples.</summary>
    private sealed class HelpWithExamples(HelpAction help) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            help.Invoke(parseResult);
            if (ExamplesOf.TryGetValue(parseResult.CommandResult.Command, out var examples))
            {
                var output = parseResult.InvocationConfiguration.Output;
                output.WriteLine("Examples:");
                foreach (var example in examples)
                {
                    output.WriteLine("  " + example);
                }

                output.WriteLine();
            }

            return Ok;
        }
    }
}
