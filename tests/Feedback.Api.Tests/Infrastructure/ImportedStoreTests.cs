using Shouldly;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>
/// What the CLI command tests that run on both stores share: a temporary directory with a store in it (a SQLite file, or
/// a PostgreSQL database of its own), rows imported through the real CLI before each test, and the CLI run on that store
/// with the class's own settings.
/// </summary>
/// <param name="csv">The lines of the CSV file imported before each test, header first.</param>
/// <param name="importOptions">The import's options after the file (e.g. --id-column id).</param>
public abstract class ImportedStoreTests(StoreKind kind, IReadOnlyList<string> csv, params string[] importOptions) : IAsyncLifetime
{
    protected string WorkDirectory { get; } = Directory.CreateTempSubdirectory("feedback-cli-").FullName;

    protected CliStore Store { get; private set; } = null!;

    /// <summary>Settings added to the store's for every run of the CLI (e.g. CLASSIFIER=deep).</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public async ValueTask InitializeAsync()
    {
        Store = new CliStore(kind, WorkDirectory);
        var file = Path.Combine(WorkDirectory, "in.csv");
        File.WriteAllLines(file, csv);
        var (exitCode, output) = await RunCliAsync(["import", file, .. importOptions]);
        exitCode.ShouldBe(0, output);
    }

    public ValueTask DisposeAsync()
    {
        Store.Dispose();
        Directory.Delete(WorkDirectory, recursive: true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    protected Task<(int ExitCode, string Output)> RunCliAsync(params string[] args)
    {
        var environment = new Dictionary<string, string>(Store.Environment, StringComparer.Ordinal);
        foreach (var (name, value) in Settings)
        {
            environment[name] = value;
        }

        return CliProcess.RunAsync(WorkDirectory, environment, args);
    }
}
