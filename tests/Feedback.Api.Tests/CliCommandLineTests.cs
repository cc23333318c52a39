using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>The conventions every CLI command follows: --help, --version, exit codes, --json and standard input.</summary>
public sealed class CliCommandLineTests : IDisposable
{
    private const string Complaint = "I was charged twice for my subscription this month, please refund me now. Unacceptable!";

    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("")]
    [InlineData("analyze")]
    [InlineData("eval")]
    [InlineData("eval-all")]
    [InlineData("train")]
    [InlineData("import")]
    [InlineData("export")]
    [InlineData("reclassify")]
    [InlineData("stats")]
    [InlineData("key")]
    [InlineData("key add")]
    [InlineData("key revoke")]
    [InlineData("rollups")]
    [InlineData("rollups rebuild")]
    public async Task Every_command_answers_help_with_its_usage_and_examples_and_exits_0(string command)
    {
        var (exitCode, output) = await RunAsync([.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);

        exitCode.ShouldBe(0, output);
        output.ShouldContain("Usage:");
        output.ShouldContain("Examples:");
        output.ShouldContain("./run.sh " + command);
    }

    [Fact]
    public async Task Analyze_help_prints_the_usage_instead_of_classifying_the_word_help()
    {
        var (exitCode, output) = await RunAsync("analyze", "--json", "--help");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("analyze <text>");
        output.ShouldNotContain("processing_method");
    }

    [Fact]
    public async Task Version_prints_the_version_and_exits_0()
    {
        var (exitCode, output) = await RunAsync("--version");

        exitCode.ShouldBe(0, output);
        output.Trim().ShouldMatch(@"^\d+\.\d+\.\d+");
    }

    [Theory]
    [InlineData("stats", "--bogus")]
    [InlineData("export", "--format", "xml")]
    [InlineData("reclassify")]
    [InlineData("no-such-command")]
    public async Task A_wrong_command_line_exits_2_and_points_to_the_help(params string[] args)
    {
        var (exitCode, output) = await RunAsync(args);

        exitCode.ShouldBe(2, output);
        output.ShouldContain("--help");
    }

    [Fact]
    public async Task Analyze_json_prints_one_object_with_the_api_field_names()
    {
        var (exitCode, output) = await RunAsync("analyze", "--json", Complaint);

        exitCode.ShouldBe(0, output);
        using var result = JsonDocument.Parse(output);
        result.RootElement.GetProperty("sentiment").GetString().ShouldBe("negative");
        result.RootElement.GetProperty("topic").GetString().ShouldBe("billing");
        result.RootElement.GetProperty("processing_method").GetString().ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Analyze_dash_reads_the_whole_message_from_standard_input()
    {
        var (exitCode, output) = await CliProcess.RunWithInputAsync(_directory, Store(), "I was charged twice for my subscription this month,\nplease refund me now. Unacceptable!\n", "analyze", "--json", "-");

        exitCode.ShouldBe(0, output);
        using var result = JsonDocument.Parse(output);
        result.RootElement.GetProperty("sentiment").GetString().ShouldBe("negative");
        result.RootElement.GetProperty("topic").GetString().ShouldBe("billing");
    }

    [Fact]
    public async Task Import_dash_reads_the_rows_from_standard_input_and_json_prints_the_summary()
    {
        var csv = $"id,text\n1,\"{Complaint}\"\n2,The new reports page is wonderful and so easy to use.\n";

        var (exitCode, output) = await CliProcess.RunWithInputAsync(_directory, Store(), csv, "import", "-", "--id-column", "id", "--json");

        exitCode.ShouldBe(0, output);
        using var summary = JsonDocument.Parse(output);
        summary.RootElement.GetProperty("read").GetInt64().ShouldBe(2);
        summary.RootElement.GetProperty("added").GetInt64().ShouldBe(2);
        summary.RootElement.GetProperty("skipped").GetInt64().ShouldBe(0);
    }

    private Dictionary<string, string> Store() => new(StringComparer.Ordinal) { ["DATA_DIR"] = Path.Combine(_directory, "data") };

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) => CliProcess.RunAsync(_directory, Store(), args);
}
