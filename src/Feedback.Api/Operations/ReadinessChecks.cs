using Feedback.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Feedback.Api.Operations;

/// <summary>The store takes writes: a recent write said so, or a probe does (as <c>/health</c> decides it).</summary>
internal sealed class StoreWritableCheck(StoreHealth store, IFeedbackStore writer, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        store.Recent(HealthEndpoints.RecentWrite) ?? await HealthEndpoints.ProbeAsync(writer, time, cancellationToken)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The store cannot take writes.");
}

/// <summary>
/// Every migration this build knows is recorded in the store: an instance of an older build sharing a database another
/// one migrated further, or a store someone restored from before a migration, is not ready for this build's queries.
/// </summary>
internal sealed class MigrationsAppliedCheck(IServiceScopeFactory scopes) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            return pending.Count == 0
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"Migrations not applied: {string.Join(", ", pending)}.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The store's own fault (locked, unreachable) is the other check's answer; here it only means "not known".
            return HealthCheckResult.Unhealthy("The applied migrations could not be read.", exception);
        }
    }
}
