using System.Net;
using System.Text;

namespace Feedback.Api.Operations;

/// <summary>
/// The pages the problem details' <c>type</c> URIs point to: <c>/problems/{slug}</c> says what the error means and what
/// to do, and <c>/problems</c> lists them all. Public, like the API reference; plain HTML with no script.
/// </summary>
internal static class ProblemPages
{
    private const string Policy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static IEndpointRouteBuilder MapProblemPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/problems", (HttpContext context) => Page(context, "Problem types", Index()))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/problems/{slug}", (string slug, HttpContext context) =>
                ProblemTypes.Find(slug) is { } type
                    ? Page(context, type.Title, Describe(type))
                    : Problems.NotFound($"There is no problem type '{slug}'; /problems lists them."))
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static IResult Page(HttpContext context, string title, string body)
    {
        context.Response.Headers.ContentSecurityPolicy = Policy;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        var html = $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{Encode(title)} · Feedback API</title>
            <style>body{"{"}font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1f2937{"}"}code{"{"}background:#f3f4f6;padding:0 .2em{"}"}</style>
            </head><body>
            {body}
            <p><a href="/problems">All problem types</a> · <a href="/docs">API reference</a></p>
            </body></html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8", Encoding.UTF8);
    }

    private static string Describe(ProblemType type) => $"""
        <h1>{Encode(type.Title)}</h1>
        <p><code>{Encode(type.Uri)}</code> · HTTP {type.Status}</p>
        <h2>What it means</h2>
        <p>{Encode(type.Meaning)}</p>
        <h2>What to do</h2>
        <p>{Encode(type.Remedy)}</p>
        """;

    private static string Index()
    {
        var list = new StringBuilder("<h1>Problem types</h1>\n<p>Every error is RFC 9457 problem details; its <code>type</code> is one of these.</p>\n<ul>\n");
        foreach (var type in ProblemTypes.All.Values.OrderBy(t => t.Status).ThenBy(t => t.Slug, StringComparer.Ordinal))
        {
            list.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"<li><a href=\"{Encode(type.Uri)}\">{Encode(type.Slug)}</a> ({type.Status}): {Encode(type.Title)}</li>\n");
        }

        return list.Append("<li><code>http-NNN</code>: a status the framework answered before any route (405, 404 for an unknown route)</li>\n</ul>").ToString();
    }

    /// <summary>The same pages as one Markdown file, for readers of the repository (docs/problems.md, kept equal by a test).</summary>
    public static string Markdown()
    {
        var text = new StringBuilder("""
            # Problem types

            Every error the API answers is RFC 9457 problem details (`application/problem+json`) with a `type`, a `title`,
            the `status`, a `detail` for this case and, for invalid input, `errors` per field. The `type` is a path on the
            service itself: `GET /problems/{name}` serves the page below for it (no key needed), and `/problems` lists them.
            This file is written from the same list as those pages (`ProblemTypes.cs`); a test keeps the two equal.

            """).Append('\n');
        foreach (var type in ProblemTypes.All.Values.OrderBy(t => t.Status).ThenBy(t => t.Slug, StringComparer.Ordinal))
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"""
                ## `{type.Uri}` ({type.Status})

                **{type.Title}.** {type.Meaning}

                What to do: {type.Remedy}


                """);
        }

        text.Append("""
            ## `/problems/http-NNN`

            A status the framework answered before any route was reached, such as `http-404` for an unknown route or
            `http-405` for a method the route does not take. See the API reference at `/docs` (or `docs/openapi.json`).

            """);
        return text.ToString().ReplaceLineEndings("\n");
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
