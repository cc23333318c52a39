using System.Collections.Concurrent;
using Feedback.Analysis;
using Feedback.Storage;

namespace Feedback.Api.Revisions;

/// <summary>
/// Follows the LLM calls and deep-model encodings that outlived their request and writes their answers over the
/// provisional rows.
/// Nothing here needs to survive a restart: a row still provisional after one is found by
/// <see cref="RevisionSweeper"/>, which asks the LLM again.
/// </summary>
internal sealed partial class ProvisionalUpgrades(
    IFeedbackStore writer, AlertRule alertRule, Taxonomy taxonomy, TimeProvider time, ILogger<ProvisionalUpgrades> logger)
{
    private readonly ConcurrentDictionary<long, Task> _inFlight = new();

    /// <summary>Ids whose upgrade is being followed in this process, for the sweeper to leave alone.</summary>
    public bool IsFollowing(long id) => _inFlight.ContainsKey(id);

    public int Count => _inFlight.Count;

    /// <summary>The ids being followed now, for the sweeper to give back at a stop.</summary>
    public IReadOnlyCollection<long> Following => [.. _inFlight.Keys];

    /// <summary>Follows an upgrade; <paramref name="id"/> is null when no new row was written (an idempotent replay).</summary>
    public void Follow(long? id, Task<LaterAnswer> upgrade)
    {
        if (id is not { } feedbackId)
        {
            // No row to revise, but the call's tokens were billed all the same.
            _ = CountOnlyAsync(upgrade);
            return;
        }

        _inFlight[feedbackId] = ApplyAsync(feedbackId, upgrade);
    }

    /// <summary>Writes what an LLM call gave for a stored provisional row, with the tokens it cost.</summary>
    public async Task ApplyAsync(long id, LaterAnswer later, string reason)
    {
        var answer = later.Result;
        var alert = answer is not null && alertRule.Triggers(answer);
        var revision = new Revision(
            id, answer is null ? null : FeedbackRecord.ForAnswer(answer, alert, taxonomy), alert, reason, time.GetUtcNow().UtcDateTime, Usage: later.Usage);
        await writer.ReviseAsync(revision, CancellationToken.None);
    }

    private async Task CountOnlyAsync(Task<LaterAnswer> upgrade)
    {
        try
        {
            var later = await upgrade;
            if (!later.Usage.IsNone)
            {
                await writer.RecordLlmUsageAsync(new LlmSpend(later.Usage, time.GetUtcNow().UtcDateTime), CancellationToken.None);
            }
        }
        catch (Exception exception)
        {
            LogUsageLost(logger, exception);
        }
    }

    private async Task ApplyAsync(long id, Task<LaterAnswer> upgrade)
    {
        try
        {
            var later = await upgrade;
            await ApplyAsync(id, later, later.Result is { } answer ? Reason(answer, late: true) : "the LLM gave no usable answer: the local answer stands");
        }
        catch (Exception exception)
        {
            // The row stays provisional and the sweeper tries again.
            LogUpgradeFailed(logger, id, exception);
        }
        finally
        {
            _inFlight.TryRemove(id, out _);
        }
    }

    /// <summary>Why a revision replaced a provisional answer, as GET /feedback/{id}/revisions shows it.</summary>
    public static string Reason(AnalysisResult answer, bool late) => (answer.Method, late) switch
    {
        (ProcessingMethod.Ai, true) => "the LLM answered after the deadline",
        (ProcessingMethod.Ai, false) => "the LLM answered on a later attempt",
        (_, true) => "the deep model answered after the latency budget",
        _ => "the deep model answered on a later attempt",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not count the tokens of an LLM call whose answer no row takes")]
    private static partial void LogUsageLost(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not apply the later answer to feedback {FeedbackId}; it stays provisional")]
    private static partial void LogUpgradeFailed(ILogger logger, long feedbackId, Exception exception);
}
