using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary><c>eval FILE --provider ai --prompt V</c>: a prompt version scored on labelled data through a real OpenAI-compatible server.</summary>
public sealed class CliEvalTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-eval-").FullName;
    private FakeOpenAiServer _llm = null!;

    public async ValueTask InitializeAsync() => _llm = await FakeOpenAiServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _llm.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task An_llm_prompt_is_scored_with_the_same_report_and_failures_fall_back_and_are_counted()
    {
        // A model that is right on two rows, wrong on one and answers garbage on the fourth.
        _llm.Reply = request => request.User switch
        {
            var u when u.Contains("crashes", StringComparison.Ordinal) => FakeReply.Labels("negative", "bug", 0.95),
            var u when u.Contains("love", StringComparison.Ordinal) => FakeReply.Labels("positive", "general", 0.9),
            var u when u.Contains("dark mode", StringComparison.Ordinal) => FakeReply.Labels("negative", "ux", 0.6),
            _ => new FakeReply.Answer("not json"),
        };
        var csv = Path.Combine(_directory, "labelled.csv");
        File.WriteAllLines(csv,
        [
            "text,label,topic",
            "\"The app crashes every time I open it\",negative,bug",
            "\"I love the new design, great work\",positive,general",
            "\"Please add dark mode to the app\",neutral,feature_request",
            "\"Where can I download my invoices?\",neutral,billing",
        ]);

        var (exitCode, output) = await RunCliAsync("eval", csv, "--provider", "ai", "--prompt", "v1", "--json");
        var (_, text) = await RunCliAsync("eval", csv, "--provider", "ai", "--prompt", "v1");

        exitCode.ShouldBe(0, output);
        var report = JsonDocument.Parse(output).RootElement;
        report.GetProperty("rows").GetInt32().ShouldBe(4);
        report.GetProperty("sentiment").GetProperty("accuracy").GetDouble().ShouldBeGreaterThanOrEqualTo(0.5);
        report.GetProperty("sentiment").GetProperty("accuracy").GetDouble().ShouldBeLessThan(1.0);
        report.GetProperty("topic").GetProperty("macro_f1").ValueKind.ShouldBe(JsonValueKind.Number);
        _llm.Requests.ShouldAllBe(r => r.System == Feedback.Analysis.Llm.PromptLibrary.Get("v1").SystemPrompt);
        text.ShouldContain("LLM answers: 3 of 4");
        text.ShouldContain("InvalidAnswer 1");
    }

    [Fact]
    public async Task Without_an_llm_configured_it_says_so()
    {
        var csv = Path.Combine(_directory, "one.csv");
        File.WriteAllLines(csv, ["text,label", "\"The app crashes every time I open it\",negative"]);

        var (exitCode, output) = await RunCliAsync(new Dictionary<string, string>(StringComparer.Ordinal), "eval", csv, "--provider", "ai");

        exitCode.ShouldBe(1);
        output.ShouldContain("OPENAI_API_KEY");
    }

    private Task<(int ExitCode, string Output)> RunCliAsync(params string[] args) =>
        RunCliAsync(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OPENAI_BASE_URL"] = _llm.BaseUrl.ToString(),
            ["OPENAI_MODEL"] = "test-model",
        }, args);

    private Task<(int ExitCode, string Output)> RunCliAsync(Dictionary<string, string> environment, params string[] args) =>
        CliProcess.RunAsync(_directory, environment, args);
}
