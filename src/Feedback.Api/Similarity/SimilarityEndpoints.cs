using System.Globalization;
using System.Text.Json.Serialization;
using Feedback.Analysis;
using Feedback.Analysis.Similarity;
using Feedback.Api.Queries;
using Feedback.Api.Security;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Similarity;

/// <summary>
/// GET /feedback/{id}/similar and GET /feedback?similar_to=TEXT: stored messages ranked by the cosine of their sentence
/// vectors with the message's (or the text's), best first, ties newest first.
/// </summary>
internal static class SimilarityEndpoints
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 100;

    /// <summary>With other filters, similar_to looks for matches among this many of the most similar messages.</summary>
    public const int FilteredCandidates = 1000;

    public static RouteGroupBuilder MapSimilarity(this RouteGroupBuilder group)
    {
        group.MapGet("/{id:long}/similar", SimilarToMessageAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("SimilarFeedback")
            .WithTags("Similarity")
            .WithSummary("The stored messages most similar in meaning to this one (cosine of sentence vectors), best first.");
        return group;
    }

    private static async Task<Results<Ok<SimilarPage>, ProblemHttpResult>> SimilarToMessageAsync(
        long id, HttpRequest request, FeedbackDb db, SimilarMessages similar, CancellationToken cancellationToken)
    {
        if (!TryParseLimit(request.Query["limit"], out var limit))
        {
            return Problems.BadRequest("The limit is not valid; see errors.", new Dictionary<string, string[]>(StringComparer.Ordinal) { ["limit"] = [LimitRule] });
        }

        await similar.CatchUpAsync(cancellationToken);
        var vector = similar.Index.VectorOf(id);
        if (vector is null)
        {
            var row = await db.Feedback.AsNoTracking().Where(f => f.Id == id).Select(f => new { f.Embedding }).FirstOrDefaultAsync(cancellationToken);
            if (row is null)
            {
                return QueryEndpoints.NotFound(id);
            }

            if (row.Embedding is null)
            {
                return NoEmbedding(id);
            }

            // A vector written after the index settled past this row (reindex in another process): it joins now.
            similar.Add(id, row.Embedding);
            vector = similar.Index.VectorOf(id)!;
        }

        var found = similar.Index.Search(vector, limit, exclude: id);
        return TypedResults.Ok(new SimilarPage(await ItemsAsync(db.Feedback.AsNoTracking(), found, limit, cancellationToken)));
    }

    /// <summary>
    /// GET /feedback?similar_to=TEXT: the list ranked by similarity to the text instead of by time, with the list's
    /// other filters applied to the <see cref="FilteredCandidates"/> most similar messages; no cursor.
    /// </summary>
    public static async Task<Results<Ok<SimilarPage>, ProblemHttpResult>> SimilarToTextAsync(
        string text, IQueryable<FeedbackRecord> filtered, bool hasFilters, HttpRequest request, FeedbackDb db, Analyzer analyzer,
        SimilarMessages similar, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text))
        {
            errors["similar_to"] = ["Must be a text to compare the messages with."];
        }

        if (!TryParseLimit(request.Query["limit"], out var limit))
        {
            errors["limit"] = [LimitRule];
        }

        if (request.Query["cursor"].ToString().Length > 0)
        {
            errors["cursor"] = ["similar_to ranks by similarity and has no pages; ask for a larger limit."];
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest("One or more query parameters are not valid; see errors.", errors);
        }

        if (analyzer.Deep is not { IsReady: true } deep)
        {
            return Problems.Make(
                ProblemTypes.EncoderUnavailable,
                "similar_to needs the sentence encoder of the deep classifier (CLASSIFIER=deep), which is not configured or still loading.");
        }

        // The text as the stored messages were encoded: trimmed, cut to the analysed length, normalised.
        var analysed = TextRules.Normalise(TextRules.Truncate(text.Trim(), TextRules.MaxAnalysedLength));
        var query = deep.Classifier.Encoder.Encode(analysed);
        await similar.CatchUpAsync(cancellationToken);
        var found = similar.Index.Search(query, hasFilters ? Math.Max(limit, FilteredCandidates) : limit);
        return TypedResults.Ok(new SimilarPage(await ItemsAsync(filtered, found, limit, cancellationToken)));
    }

    public static ProblemHttpResult NoEmbedding(long id) => Problems.Make(
        ProblemTypes.NoEmbedding,
        $"Message {id} was stored without a sentence vector (before embeddings were stored, shorter than the analysed minimum, or " +
        "while the encoder was not available), so it cannot be compared. ./run.sh reindex gives stored messages their vectors.");

    private static readonly string LimitRule = $"Must be a whole number from 1 to {MaxLimit}.";

    private static bool TryParseLimit(string? text, out int limit)
    {
        limit = DefaultLimit;
        return string.IsNullOrEmpty(text)
            || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxLimit);
    }

    /// <summary>The found messages' rows in rank order, those <paramref name="rows"/> lets through, at most <paramref name="limit"/>.</summary>
    private static async Task<List<SimilarItem>> ItemsAsync(
        IQueryable<FeedbackRecord> rows, IReadOnlyList<SimilarMessage> found, int limit, CancellationToken cancellationToken)
    {
        var ids = found.Select(f => f.Id).ToList();
        var records = await rows.Where(f => ids.Contains(f.Id)).ToDictionaryAsync(f => f.Id, cancellationToken);
        return [.. found.Where(f => records.ContainsKey(f.Id)).Take(limit).Select(f => new SimilarItem(records[f.Id], Math.Round(f.Similarity, 4)))];
    }

    internal sealed record SimilarPage([property: JsonPropertyName("items")] IReadOnlyList<SimilarItem> Items);
}

/// <summary>A message found by a similarity search: the cosine of its vector with the query's, and its result.</summary>
internal sealed class SimilarItem(FeedbackRecord record, double similarity) : FeedbackResult(record)
{
    [JsonPropertyName("similarity")]
    public double Similarity { get; } = similarity;
}
