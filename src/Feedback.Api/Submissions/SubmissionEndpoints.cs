using System.Text.Json;
using Feedback.Analysis;
using Feedback.Api.Alerts;
using Feedback.Api.Operations;
using Feedback.Api.Queries;
using Feedback.Api.Revisions;
using Feedback.Api.Security;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Submissions;

internal static class SubmissionEndpoints
{
    public const string IdempotencyHeader = "Idempotency-Key";
    private const int MaxIdempotencyKeyLength = 255;

    public static RouteGroupBuilder MapSubmissions(this RouteGroupBuilder group)
    {
        // The handler's services are all singletons, taken from the root provider once: resolved per request, each
        // POST would open a request scope (a scope, its feature and dictionary) only to look them up.
        var root = ((IEndpointRouteBuilder)group).ServiceProvider;
        var services = new Lazy<Services>(() => Services.From(root));
        group.MapPost("/", (HttpContext context, CancellationToken cancellationToken) => SubmitAsync(context, services.Value, cancellationToken))
            .RequireAuthorization(Scopes.Ingest)
            .WithName("SubmitFeedback")
            .WithSummary("Classify one message, store it and raise an alert when it needs a person.")
            .Produces<FeedbackResult>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    private static async Task SubmitAsync(HttpContext context, Services services, CancellationToken cancellationToken)
    {
        var (analyzer, alertRule, alertGroups, writer, upgrades, metrics, time, json) = services;
        var started = time.GetTimestamp();
        string? idempotencyKey = null;
        if (context.Request.Headers.TryGetValue(IdempotencyHeader, out var keyValues))
        {
            var key = keyValues.Count == 1 ? keyValues[0] : null;
            if (string.IsNullOrWhiteSpace(key) || key.Length > MaxIdempotencyKeyLength || key.Any(c => c is < ' ' or > '~'))
            {
                await Problems.BadRequest(
                        $"{IdempotencyHeader} must be one value of 1 to {MaxIdempotencyKeyLength} printable ASCII characters.",
                        new Dictionary<string, string[]>(StringComparer.Ordinal) { [IdempotencyHeader] = ["Not a valid key."] })
                    .ExecuteAsync(context);
                return;
            }

            // Keys are scoped to the API key that sent them, so two clients cannot collide.
            idempotencyKey = $"{context.User.KeyId()}:{key}";
        }

        var (submission, problem) = await SubmissionReader.ReadAsync(context.Request, cancellationToken);
        if (problem is not null)
        {
            await problem.ExecuteAsync(context);
            return;
        }

        var (result, upgrade) = await analyzer.AnalyzeAsync(submission!.Text, cancellationToken);
        var alert = alertRule.Triggers(result);
        var record = SubmissionRecords.ToRecord(submission, result, alert, time.GetUtcNow().UtcDateTime, idempotencyKey, analyzer.Taxonomy);

        // The row is written whatever happens to the request from here on: no cancellation token.
        var group = alert && !await StoredBeforeAsync(context, alertGroups, idempotencyKey)
            ? await alertGroups.JoinAsync(record.Topic, record.Text, record.CreatedAt, idempotencyKey)
            : null;
        var written = await writer.WriteAsync(new NewFeedback(record, alert, group, Followed: upgrade is not null), CancellationToken.None);
        if (upgrade is not null)
        {
            upgrades.Follow(written.Outcome == WriteOutcome.Created ? written.Record.Id : null, upgrade);
        }

        if (written.Outcome == WriteOutcome.KeyReused)
        {
            await Problems.IdempotencyKeyReused().ExecuteAsync(context);
            return;
        }

        context.Items[RequestLogging.FeedbackIdItem] = written.Record.Id;
        context.Items[RequestLogging.CacheHitItem] = result.CacheHit;
        if (written.Outcome == WriteOutcome.Replayed)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }
        else
        {
            metrics.Stored(record.Sentiment, record.Topic, record.ProcessingMethod, time.GetElapsedTime(started));
        }

        CreatedFeedback.Write(context.Response, new FeedbackResult(written.Record), json);
    }

    /// <summary>
    /// Whether a row with this Idempotency-Key is stored already, asked only before joining a group shared through Redis:
    /// joining counts the alert in the group on every instance, and a request sent again is answered with the stored row
    /// (or refused, with another body), so it must not count a second time. One read by the key's unique index, for
    /// alerting requests that carry a key; without Redis the writer decides alone, inside its transaction. Two sends of one
    /// key in flight together both find no row here; the join itself tells them apart (<see cref="SharedAlertGroups"/>).
    /// </summary>
    private static ValueTask<bool> StoredBeforeAsync(HttpContext context, SharedAlertGroups alertGroups, string? idempotencyKey)
    {
        if (idempotencyKey is null || !alertGroups.IsShared)
        {
            return ValueTask.FromResult(false);
        }

        return new ValueTask<bool>(HasRowAsync(context.RequestServices.GetRequiredService<FeedbackDb>(), idempotencyKey));
    }

    /// <summary>
    /// Apart from <see cref="StoredBeforeAsync"/>: the query's lambda is an expression tree, and compiling a method that
    /// builds one loads System.Linq.Expressions, which a server without Redis would otherwise map at its first alert.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Task<bool> HasRowAsync(FeedbackDb db, string idempotencyKey) =>
        db.Feedback.AsNoTracking().AnyAsync(f => f.IdempotencyKey == idempotencyKey, CancellationToken.None);

    private sealed record Services(
        Analyzer Analyzer,
        AlertRule AlertRule,
        SharedAlertGroups AlertGroups,
        IFeedbackStore Writer,
        ProvisionalUpgrades Upgrades,
        FeedbackMetrics Metrics,
        TimeProvider Time,
        JsonSerializerOptions Json)
    {
        public static Services From(IServiceProvider provider) => new(
            provider.GetRequiredService<Analyzer>(),
            provider.GetRequiredService<AlertRule>(),
            provider.GetRequiredService<SharedAlertGroups>(),
            provider.GetRequiredService<IFeedbackStore>(),
            provider.GetRequiredService<ProvisionalUpgrades>(),
            provider.GetRequiredService<FeedbackMetrics>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions);
    }
}
