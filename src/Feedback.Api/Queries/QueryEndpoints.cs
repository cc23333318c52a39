using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using Feedback.Analysis;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Feedback.Api.Hosting;
using Feedback.Api.Security;
using Feedback.Api.Similarity;

namespace Feedback.Api.Queries;

internal static class QueryEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static RouteGroupBuilder MapQueries(this RouteGroupBuilder group)
    {
        group.MapGet("/{id:long}", GetAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("GetFeedback")
            .WithTags("Feedback")
            .WithSummary("One stored message with its result.");
        group.MapGet("/", ListAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("ListFeedback")
            .WithTags("Feedback")
            .WithSummary("Stored messages, newest first, filtered, one page at a time (keyset cursor); with similar_to, the most similar first.");
        return group;
    }

    private static async Task<Results<Ok<FeedbackDetails>, ProblemHttpResult>> GetAsync(long id, FeedbackDb db, CancellationToken cancellationToken)
    {
        var details = await DetailsAsync(db, id, cancellationToken);
        return details is null ? NotFound(id) : TypedResults.Ok(details);
    }

    /// <summary>One message as GET /feedback/{id} shows it, with its current label; null when there is no such message.</summary>
    public static async Task<FeedbackDetails?> DetailsAsync(FeedbackDb db, long id, CancellationToken cancellationToken)
    {
        var record = await db.Feedback.AsNoTracking().FirstOrDefaultAsync(f => f.Id == id, cancellationToken);
        if (record is null)
        {
            return null;
        }

        var labels = await CurrentLabelsAsync(db, [id], cancellationToken);
        return new FeedbackDetails(record, labels.GetValueOrDefault(id));
    }

    public static ProblemHttpResult NotFound(long id) => Problems.NotFound($"There is no feedback with id {id}.");

    /// <summary>The latest label of each of the messages that have one, in one query over the labels' (feedback_id, id) index.</summary>
    internal static async Task<Dictionary<long, FeedbackLabel>> CurrentLabelsAsync(FeedbackDb db, IReadOnlyCollection<long> ids, CancellationToken cancellationToken) =>
        await db.Labels.AsNoTracking()
            .Where(l => ids.Contains(l.FeedbackId) && !db.Labels.Any(later => later.FeedbackId == l.FeedbackId && later.Id > l.Id))
            .ToDictionaryAsync(l => l.FeedbackId, cancellationToken);

    private static async Task<Results<Ok<FeedbackPage>, Ok<SimilarityEndpoints.SimilarPage>, ProblemHttpResult>> ListAsync(
        HttpRequest request, FeedbackDb db, Taxonomy taxonomy, Analyzer analyzer, SimilarMessages similar, SearchOptions settings, SearchClock clock, CancellationToken cancellationToken)
    {
        var (filter, errors) = ListFilter.Parse(request.Query, taxonomy);
        if (errors.Count > 0)
        {
            return Problems.BadRequest("One or more query parameters are not valid; see errors.", errors);
        }

        var query = db.Feedback.AsNoTracking();
        if (filter.Sentiment is { } sentiment)
        {
            query = query.Where(f => f.Sentiment == sentiment);
        }

        if (filter.Topic is { } topic)
        {
            query = query.Where(f => f.Topic == topic);
        }

        if (filter.Alert is { } alert)
        {
            query = query.Where(f => f.AlertTriggered == alert);
        }

        if (filter.From is { } from)
        {
            query = query.Where(f => f.CreatedAt >= from);
        }

        if (filter.To is { } to)
        {
            query = query.Where(f => f.CreatedAt < to);
        }

        if (filter.Search is { } search)
        {
            query = query.Matching(db, search);
        }

        if (request.Query.ContainsKey("similar_to"))
        {
            var hasFilters = filter is not { Sentiment: null, Topic: null, Alert: null, From: null, To: null, Search: null };
            return await SimilarityEndpoints.SimilarToTextAsync(
                request.Query["similar_to"].ToString(), query, hasFilters, request, db, analyzer, similar, cancellationToken) switch
            {
                { Result: Ok<SimilarityEndpoints.SimilarPage> page } => page,
                { Result: ProblemHttpResult problem } => problem,
                _ => throw new InvalidOperationException("similar_to answered with an unexpected result."),
            };
        }

        if (filter.BeforeId is { } beforeId)
        {
            query = query.Where(f => f.Id < beforeId);
        }

        var newest = query.OrderByDescending(f => f.Id).Take(filter.Limit + 1);
        List<FeedbackRecord> rows;
        if (filter.Search is null)
        {
            rows = await newest.ToListAsync(cancellationToken);
        }
        else
        {
            try
            {
                rows = await TextSearch.WithinAsync(
                    db, settings.SearchTimeout, clock.Time, () => newest.ToListAsync(cancellationToken), cancellationToken);
            }
            catch (SearchTimeoutException exception)
            {
                return Problems.SearchTimedOut(exception.Budget);
            }
        }

        var hasMore = rows.Count > filter.Limit;
        if (hasMore)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        var labels = await CurrentLabelsAsync(db, rows.ConvertAll(r => r.Id), cancellationToken);
        var items = rows.ConvertAll(r => new FeedbackDetails(r, labels.GetValueOrDefault(r.Id)));
        return TypedResults.Ok(new FeedbackPage(items, hasMore ? Cursor.Encode(rows[^1].Id) : null));
    }

    internal sealed record FeedbackPage(
        [property: JsonPropertyName("items")] IReadOnlyList<FeedbackDetails> Items,
        [property: JsonPropertyName("next_cursor")] string? NextCursor);

    /// <summary>What a limit must be, as the lists' 400 answers say it.</summary>
    public static readonly string LimitRule = $"Must be a whole number from 1 to {MaxLimit}.";

    /// <summary>
    /// A list's page size: <see cref="DefaultLimit"/> when the parameter is absent or empty, else a whole number from 1 to
    /// <see cref="MaxLimit"/>; false for anything else. GET /feedback and GET /alerts share this rule.
    /// </summary>
    public static bool TryParseLimit(string? text, out int limit)
    {
        limit = DefaultLimit;
        return string.IsNullOrEmpty(text)
            || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxLimit);
    }

    internal sealed record ListFilter(
        string? Sentiment, string? Topic, bool? Alert, DateTime? From, DateTime? To, SearchTerms? Search, long? BeforeId, int Limit)
    {
        public static (ListFilter Filter, Dictionary<string, string[]> Errors) Parse(IQueryCollection query, Taxonomy taxonomy)
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            // An empty value means no filter, as for the other parameters (the contract writes them as ?sentiment=&topic=&...).
            var sentiment = QueryParameters.Sentiment(query, errors);
            var topic = QueryParameters.Topic(query, taxonomy, errors);

            bool? alert = null;
            if (query["alert"].ToString() is { Length: > 0 } alertText)
            {
                if (bool.TryParse(alertText, out var parsed))
                {
                    alert = parsed;
                }
                else
                {
                    errors["alert"] = ["Must be true or false."];
                }
            }

            var from = QueryParameters.Time(query, "from", errors);
            var to = QueryParameters.Time(query, "to", errors);
            if (!TryParseLimit(query["limit"], out var limit))
            {
                errors["limit"] = [LimitRule];
            }

            long? beforeId = null;
            if (query["cursor"].ToString() is { Length: > 0 } cursorText)
            {
                if (Cursor.TryDecode(cursorText, out var id))
                {
                    beforeId = id;
                }
                else
                {
                    errors["cursor"] = ["Not a cursor this API returned."];
                }
            }

            SearchTerms? search = null;
            if (query["q"].ToString() is { Length: > 0 } q)
            {
                if (q.Length > SearchTerms.MaxLength)
                {
                    errors["q"] = [$"Must be at most {SearchTerms.MaxLength} characters (got {q.Length})."];
                }
                else if ((search = SearchTerms.Parse(q)).Terms.Count == 0)
                {
                    errors["q"] = ["Must contain a word to search for (a letter or a digit); punctuation alone matches nothing."];
                }
            }

            return (new ListFilter(sentiment, topic, alert, from, to, search, beforeId, limit), errors);
        }
    }

    /// <summary>An opaque page token: the id the next page starts below.</summary>
    internal static class Cursor
    {
        private const string Prefix = "before:";

        public static string Encode(long id) =>
            Convert.ToBase64String(Encoding.ASCII.GetBytes(Prefix + id.ToString(CultureInfo.InvariantCulture)))
                .TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public static bool TryDecode(string cursor, out long id)
        {
            id = 0;
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var bytes = new byte[base64.Length];
            if (!Convert.TryFromBase64String(base64, bytes, out var written))
            {
                return false;
            }

            var text = Encoding.ASCII.GetString(bytes, 0, written);
            return text.StartsWith(Prefix, StringComparison.Ordinal)
                && long.TryParse(text.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out id)
                && id > 0;
        }
    }
}
