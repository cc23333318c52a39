using System.Diagnostics;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>The CLI as a real child process (its built Feedback.Cli.dll), with a chosen working directory and environment.</summary>
public static class CliProcess
{
    /// <summary>Settings a developer's shell may carry that would point a test's CLI at a real LLM or store.</summary>
    private static readonly string[] Inherited = ["OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "DATA_DIR", "DATABASE_URL", "AI_PROVIDER_ENABLED"];

    /// <summary>Runs the CLI to its end; the output is standard output followed by standard error.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunWithInputAsync(workingDirectory, environment, null, args);

    /// <summary>As <see cref="RunAsync"/>, with <paramref name="input"/> (when given) as the CLI's standard input, then its end.</summary>
    public static async Task<(int ExitCode, string Output)> RunWithInputAsync(
        string workingDirectory, IReadOnlyDictionary<string, string> environment, string? input, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(CliPath());
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in Inherited)
        {
            info.Environment.Remove(name);
        }

        // The lexical model unless a test asks for the deep one: its answers are the ones these tests pin.
        info.Environment["CLASSIFIER"] = "fast";

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The CLI's build output for the same configuration: tests/X/bin/CONFIG/TFM → src/Feedback.Cli/bin/CONFIG/TFM.</summary>
    private static string CliPath()
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = tfm.Parent!;
        var root = configuration.Parent!.Parent!.Parent!.Parent!;
        return Path.Combine(root.FullName, "src", "Feedback.Cli", "bin", configuration.Name, tfm.Name, "Feedback.Cli.dll");
    }
}
