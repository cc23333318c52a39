using System.Text.Json.Serialization;
using Feedback.Api.Operations;
using Feedback.Api.Security;
using Feedback.Api.Similarity;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Customers;

/// <summary>DELETE /customers/{customer_id}/feedback: a customer's right to erasure, answered with the count erased.</summary>
internal static partial class CustomerEndpoints
{
    public static RouteGroupBuilder MapCustomers(this RouteGroupBuilder group)
    {
        group.MapDelete("/{customer_id}/feedback", EraseAsync)
            .RequireAuthorization(Scopes.Admin)
            .WithName("EraseCustomerFeedback")
            .WithSummary("Erase one customer's messages with their revisions, labels, alert rows and alert excerpts; answers how many messages went.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    private static async Task<Results<Ok<Erasure>, ProblemHttpResult>> EraseAsync(
        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "customer_id")] string customerId,
        FeedbackDb db, SimilarMessages similar, FeedbackMetrics metrics, ILogger<Erasure> logger, CancellationToken cancellationToken)
    {
        if (customerId.Length > CustomerErasure.MaxCustomerIdLength || string.IsNullOrWhiteSpace(customerId))
        {
            return Problems.BadRequest("customer_id is not valid; see errors.", new Dictionary<string, string[]>(StringComparer.Ordinal)
            {
                ["customer_id"] = [$"Must be 1 to {CustomerErasure.MaxCustomerIdLength} characters, as it was posted."],
            });
        }

        await db.Database.OpenConnectionAsync(cancellationToken);
        IReadOnlyList<long> erased;
        try
        {
            erased = await CustomerErasure.EraseAsync(db.Database.GetDbConnection(), customerId, cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        foreach (var id in erased)
        {
            similar.Index.Remove(id);
        }

        metrics.Erased(erased.Count);

        // Neither the customer's id nor any of their words: the log says that an erasure happened and how large it was.
        LogErased(logger, erased.Count);
        return TypedResults.Ok(new Erasure(erased.Count));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erased a customer's data on request: {Messages} messages")]
    private static partial void LogErased(ILogger logger, int messages);

    internal sealed record Erasure([property: JsonPropertyName("deleted")] int Deleted);
}
