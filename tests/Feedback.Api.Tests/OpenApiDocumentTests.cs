using System.Net;
using System.Text.Json.Nodes;
using Feedback.Api.Operations;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Issue #22 item 4: the OpenAPI document clients are generated from. docs/openapi.json is the committed copy, the build
/// writes one into the API's obj/openapi/, and the service serves one: all three must be the same document. After a change
/// to the API, refresh the committed copy with FEEDBACK_UPDATE_DOCS=1 (see the failure message).
/// </summary>
public sealed class OpenApiDocumentTests : IDisposable
{
    private const string UpdateSetting = "FEEDBACK_UPDATE_DOCS";

    private readonly FeedbackApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task The_committed_document_is_the_one_the_build_writes_and_the_service_serves()
    {
        var served = await ServedAsync();
        var committedPath = Repository.PathOf("docs", "openapi.json");
        if (Environment.GetEnvironmentVariable(UpdateSetting) == "1")
        {
            await File.WriteAllTextAsync(committedPath, served.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n", TestContext.Current.CancellationToken);
        }

        var committed = JsonNode.Parse(await File.ReadAllTextAsync(committedPath, TestContext.Current.CancellationToken))!;
        var built = JsonNode.Parse(await File.ReadAllTextAsync(Repository.PathOf("src", "Feedback.Api", "obj", "openapi", "openapi.json"), TestContext.Current.CancellationToken))!;

        JsonNode.DeepEquals(served, built).ShouldBeTrue("the document the build wrote differs from the served one");
        JsonNode.DeepEquals(served, committed).ShouldBeTrue(
            $"docs/openapi.json is not the document the service serves: refresh it with {UpdateSetting}=1 dotnet test --project tests/Feedback.Api.Tests -c Release -- --filter-class '*OpenApiDocumentTests' and commit it");
    }

    [Fact]
    public async Task Every_operation_has_a_tag_and_an_id_and_every_body_and_problem_an_example()
    {
        var document = await ServedAsync();

        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var where = $"{method.ToUpperInvariant()} {path}";
                operation!["operationId"]?.GetValue<string>().ShouldNotBeNullOrWhiteSpace(where);
                operation["tags"]!.AsArray().Count.ShouldBe(1, where);
                foreach (var (_, media) in operation["requestBody"]?["content"]?.AsObject() ?? [])
                {
                    media!["example"].ShouldNotBeNull($"{where}: request body without an example");
                }

                foreach (var (status, response) in operation["responses"]!.AsObject())
                {
                    if (response!["content"]?["application/problem+json"] is { } problem)
                    {
                        var type = problem["example"]?["type"]?.GetValue<string>();
                        type.ShouldNotBeNull($"{where} {status}: problem without an example");
                        ProblemTypes.Find(type["/problems/".Length..]).ShouldNotBeNull($"{where} {status}: {type} is no known type");
                    }
                }
            }
        }

        var tags = document["tags"]!.AsArray().Select(t => (Name: t!["name"]!.GetValue<string>(), Description: t["description"]?.GetValue<string>())).ToList();
        tags.ShouldAllBe(t => !string.IsNullOrWhiteSpace(t.Description));
    }

    [Fact]
    public async Task Query_parameters_are_typed_and_enumerated()
    {
        var list = (await ServedAsync())["paths"]!["/feedback"]!["get"]!["parameters"]!.AsArray()
            .ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!["schema"]!);

        list["sentiment"]["enum"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldBe(["positive", "negative", "neutral", "mixed"]);
        list["topic"]["enum"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldBe(["bug", "feature_request", "billing", "performance", "ux", "general"]);
        list["alert"]["type"]!.GetValue<string>().ShouldBe("boolean");
        list["from"]["format"]!.GetValue<string>().ShouldBe("date-time");
        list["limit"]["type"]!.GetValue<string>().ShouldBe("integer");
        list["limit"]["maximum"]!.GetValue<int>().ShouldBe(Queries.QueryEndpoints.MaxLimit);
    }

    [Fact]
    public async Task A_problem_type_from_a_real_error_resolves_to_its_page_and_every_type_has_one()
    {
        var refused = await _app.Client().PostFeedbackAsync(new { text = "   " });
        refused.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        var type = (await refused.JsonAsync()).Str("type");

        var page = await _app.Client(key: null).GetAsync(new Uri(type, UriKind.Relative), TestContext.Current.CancellationToken);
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        page.Headers.GetValues("Content-Security-Policy").Single().ShouldStartWith("default-src 'none'");
        (await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldContain("The request is not valid");

        foreach (var slug in ProblemTypes.All.Keys.Append("http-405"))
        {
            var response = await _app.Client(key: null).GetAsync(new Uri("/problems/" + slug, UriKind.Relative), TestContext.Current.CancellationToken);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, slug);
        }

        var unknown = await _app.Client(key: null).GetAsync(new Uri("/problems/no-such-thing", UriKind.Relative), TestContext.Current.CancellationToken);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await unknown.JsonAsync()).Str("type").ShouldBe("/problems/not-found");
    }

    [Fact]
    public async Task The_docs_list_the_problem_types_the_service_serves()
    {
        var path = Repository.PathOf("docs", "problems.md");
        if (Environment.GetEnvironmentVariable(UpdateSetting) == "1")
        {
            await File.WriteAllTextAsync(path, ProblemPages.Markdown(), TestContext.Current.CancellationToken);
        }

        (await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken)).ShouldBe(ProblemPages.Markdown(),
            $"docs/problems.md differs from ProblemTypes.cs: refresh it with {UpdateSetting}=1 (see the class's comment)");
    }

    private async Task<JsonNode> ServedAsync()
    {
        var response = await _app.Client(key: null).GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
    }
}
