using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

public sealed class ApiDocsTests : IDisposable
{
    private readonly FeedbackApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task The_openapi_document_lists_every_route_without_a_key()
    {
        var response = await _app.Client(key: null).GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var paths = (await response.JsonAsync()).GetProperty("paths");
        paths.GetProperty("/feedback").TryGetProperty("post", out _).ShouldBeTrue();
        paths.GetProperty("/feedback").TryGetProperty("get", out _).ShouldBeTrue();
        paths.GetProperty("/feedback/{id}").TryGetProperty("get", out _).ShouldBeTrue();
        paths.GetProperty("/feedback/batch").TryGetProperty("post", out _).ShouldBeTrue();
        paths.GetProperty("/stats").TryGetProperty("get", out _).ShouldBeTrue();
        paths.GetProperty("/health").TryGetProperty("get", out _).ShouldBeTrue();
    }

    [Fact]
    public async Task The_openapi_document_declares_the_api_key_header_on_protected_operations_only()
    {
        var document = await (await _app.Client(key: null).GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        scheme.Str("type").ShouldBe("apiKey");
        scheme.Str("in").ShouldBe("header");
        scheme.Str("name").ShouldBe("X-API-Key");
        var paths = document.GetProperty("paths");
        paths.GetProperty("/feedback").GetProperty("post").GetProperty("security")[0].TryGetProperty("ApiKey", out _).ShouldBeTrue();
        // A public operation says so with one empty requirement ("no key"), not by leaving security out.
        var open = paths.GetProperty("/health").GetProperty("get").GetProperty("security");
        open.GetArrayLength().ShouldBe(1);
        open[0].EnumerateObject().ShouldBeEmpty();
    }

    [Fact]
    public async Task Post_feedback_is_documented_with_a_request_and_a_response_example()
    {
        var document = await (await _app.Client(key: null).GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

        var post = document.GetProperty("paths").GetProperty("/feedback").GetProperty("post");
        var request = post.GetProperty("requestBody").GetProperty("content").GetProperty("application/json");
        request.GetProperty("example").Str("text").ShouldNotBeNullOrWhiteSpace();
        request.GetProperty("schema").GetProperty("required")[0].GetString().ShouldBe("text");
        var created = post.GetProperty("responses").GetProperty("201").GetProperty("content").EnumerateObject().First().Value;
        created.GetProperty("example").Str("sentiment").ShouldBe("negative");
    }

    [Fact]
    public async Task Reads_document_their_query_parameters_and_keyed_operations_their_401_and_403()
    {
        var document = await (await _app.Client(key: null).GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

        var paths = document.GetProperty("paths");
        var list = paths.GetProperty("/feedback").GetProperty("get");
        ParameterNames(list, "query").ShouldBe(["sentiment", "topic", "alert", "from", "to", "q", "similar_to", "limit", "cursor"], ignoreOrder: true);
        list.GetProperty("responses").TryGetProperty("400", out _).ShouldBeTrue();
        ParameterNames(paths.GetProperty("/stats").GetProperty("get"), "query").ShouldBe(["from", "to", "bucket"], ignoreOrder: true);
        paths.GetProperty("/feedback/{id}").GetProperty("get").GetProperty("responses").TryGetProperty("404", out _).ShouldBeTrue();
        ParameterNames(paths.GetProperty("/feedback").GetProperty("post"), "header").ShouldContain("Idempotency-Key");

        var keyed = paths.EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (Name: $"{operation.Name} {path.Name}", Operation: operation.Value)))
            .Where(entry => entry.Operation.TryGetProperty("security", out var security) && security.EnumerateArray().Any(r => r.TryGetProperty("ApiKey", out _)))
            .ToList();
        keyed.ShouldNotBeEmpty();
        keyed.Where(entry => !entry.Operation.GetProperty("responses").TryGetProperty("401", out _)).Select(entry => entry.Name).ShouldBeEmpty();
        keyed.Where(entry => !entry.Operation.GetProperty("responses").TryGetProperty("403", out _)).Select(entry => entry.Name).ShouldBeEmpty();
        var label = paths.GetProperty("/feedback/{id}/label").GetProperty("put");
        label.GetProperty("responses").TryGetProperty("400", out _).ShouldBeTrue();
        label.GetProperty("responses").TryGetProperty("404", out _).ShouldBeTrue();
        label.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example").Str("topic").ShouldBe("billing");
        var resolve = paths.GetProperty("/alerts/{id}/resolve").GetProperty("post").GetProperty("responses");
        resolve.TryGetProperty("404", out _).ShouldBeTrue();
        resolve.TryGetProperty("409", out _).ShouldBeTrue();
        var retry = paths.GetProperty("/alerts/{id}/retry").GetProperty("post").GetProperty("responses");
        retry.TryGetProperty("404", out _).ShouldBeTrue();
        retry.TryGetProperty("409", out _).ShouldBeTrue();
    }

    private static List<string> ParameterNames(System.Text.Json.JsonElement operation, string location) =>
        operation.TryGetProperty("parameters", out var parameters)
            ? [.. parameters.EnumerateArray().Where(p => p.Str("in") == location).Select(p => p.Str("name"))]
            : [];

    [Fact]
    public async Task The_reference_at_docs_is_served_locally()
    {
        var client = _app.Client(key: null);
        var page = await client.GetAsync(new Uri("/docs", UriKind.Relative), TestContext.Current.CancellationToken);
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("openapi/v1.json");
        html.ShouldNotContain("cdn.jsdelivr.net");
        var script = await client.GetAsync(new Uri("/docs/scalar.js", UriKind.Relative), TestContext.Current.CancellationToken);
        script.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
