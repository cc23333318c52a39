using System.Collections.Concurrent;
using System.Threading.Channels;
using Feedback.Storage;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Alerts;

/// <summary>
/// Delivers the outbox. A feeder reads due <c>alert_deliveries</c> rows into a bounded queue per channel;
/// one sender per channel sends them no faster than one per <see cref="AlertSettings.SendInterval"/> and
/// records each attempt. A failure is retried with exponential back-off and jitter (honouring Retry-After)
/// until it succeeds, unless the receiver's answer is permanent or <see cref="AlertSettings.MaxAttempts"/> were
/// made: the delivery is then parked as failed, shown in /alerts, until POST /alerts/{id}/retry queues it again.
/// A crash between sending and recording means one more send of the same idempotency key, never a lost alert. Rows are taken through <see cref="IWorkClaims"/>: with several instances on one database each
/// delivery is claimed by one of them, a send once started is finished and recorded even while stopping, and what
/// a stopping instance had queued but not sent is handed back for the others at once.
/// </summary>
internal sealed partial class AlertDispatcher(
    IFeedbackStore writer,
    IWorkClaims claims,
    IBackgroundReads reads,
    AlertPolicy policy,
    AlertSignal signal,
    IEnumerable<IAlertChannel> channels,
    AlertMetrics metrics,
    TimeProvider time,
    ILogger<AlertDispatcher> logger) : BackgroundService
{
    private const int QueueCapacity = 64;

    /// <summary>
    /// The least time between two feeds woken by the writer. Under a burst nearly every group commit notifies, and each
    /// wake-up is a thread hand-off that finds the queues full; a delivery waits at most this long for it (its
    /// sender paces sends a second apart anyway). Real time, not <see cref="TimeProvider"/>'s: it only spaces CPU work.
    /// </summary>
    private static readonly TimeSpan MinFeedGap = TimeSpan.FromMilliseconds(50);

    private readonly Dictionary<string, IAlertChannel> _channels = channels.ToDictionary(c => c.Name, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, bool> _queued = new();
    private readonly ConcurrentDictionary<long, bool> _unsent = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queues = _channels.Keys.ToDictionary(
            name => name,
            _ => Channel.CreateBounded<AlertDelivery>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true }),
            StringComparer.Ordinal);
        var senders = queues.Select(q => SendLoopAsync(_channels[q.Key], q.Value.Reader, stoppingToken)).ToList();

        // One periodic timer for the polls (retries falling due, other instances' rows) instead of one per wait.
        var poll = time.CreateTimer(static state => ((AlertSignal)state!).Notify(), signal, policy.Settings.PollInterval, policy.Settings.PollInterval);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var fedAt = TimeProvider.System.GetTimestamp();
                try
                {
                    await FeedAsync(queues, stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogFeedFailed(logger, exception);
                }

                await signal.WaitAsync(stoppingToken);
                var sinceFeed = TimeProvider.System.GetElapsedTime(fedAt);
                if (sinceFeed < MinFeedGap)
                {
                    await Task.Delay(MinFeedGap - sinceFeed, TimeProvider.System, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await poll.DisposeAsync();
            foreach (var queue in queues.Values)
            {
                queue.Writer.TryComplete();
            }

            await Task.WhenAll(senders);
            await ReleaseUnsentAsync();
        }
    }

    /// <summary>
    /// A claim lasts until every delivery it took could have been sent at the configured pace, with room to spare;
    /// only a claimant that died leaves it to expire.
    /// </summary>
    private TimeSpan Lease => TimeSpan.FromMinutes(1) + (policy.Settings.SendInterval * QueueCapacity * 2);

    private async Task FeedAsync(Dictionary<string, Channel<AlertDelivery>> queues, CancellationToken cancellationToken)
    {
        // While every queue is full nothing read could be queued. Under a burst of alerts the writer wakes the feeder
        // after nearly every commit, and each read of the due rows and count of the pending ones cost more CPU than
        // the request that raised the alert; the pending gauge is refreshed on the next feed, after the next send.
        if (queues.Count > 0 && queues.Values.All(queue => queue.Reader.Count >= QueueCapacity))
        {
            return;
        }

        var now = time.GetUtcNow().UtcDateTime;
        metrics.Pending = await reads.CountPendingDeliveriesAsync(cancellationToken);

        // Only channels configured here are claimed: a row for another channel waits for an instance that has it.
        var room = queues.Sum(q => QueueCapacity - q.Value.Reader.Count);
        if (room <= 0)
        {
            return;
        }

        var due = await claims.ClaimDeliveriesAsync(queues.Keys, [.. _queued.Keys], now, Lease, room, cancellationToken);
        var overflow = new List<long>();
        foreach (var delivery in due)
        {
            if (!_queued.TryAdd(delivery.Id, true))
            {
                continue;
            }

            if (queues[delivery.Channel].Writer.TryWrite(delivery))
            {
                _unsent[delivery.Id] = true;
            }
            else
            {
                _queued.TryRemove(delivery.Id, out _);
                overflow.Add(delivery.Id);
            }
        }

        await claims.ReleaseDeliveriesAsync(overflow, cancellationToken);
    }

    private async Task ReleaseUnsentAsync()
    {
        try
        {
            await claims.ReleaseDeliveriesAsync([.. _unsent.Keys], CancellationToken.None);
        }
        catch (Exception exception)
        {
            // Their leases end on their own; another instance sends them then.
            LogReleaseFailed(logger, _unsent.Count, exception);
        }
    }

    private async Task SendLoopAsync(IAlertChannel channel, ChannelReader<AlertDelivery> queue, CancellationToken stoppingToken)
    {
        var lastSent = long.MinValue;
        await foreach (var delivery in queue.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    continue;
                }

                // Never more than one request per interval to one receiver (Slack allows about one a second).
                if (lastSent != long.MinValue)
                {
                    var wait = policy.Settings.SendInterval - time.GetElapsedTime(lastSent);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, time, stoppingToken);
                    }
                }

                var message = await LoadAsync(delivery, stoppingToken);
                if (message is null)
                {
                    // Delivered since it was queued (the feeder read it just before the last attempt was recorded).
                    _unsent.TryRemove(delivery.Id, out _);
                    continue;
                }

                lastSent = time.GetTimestamp();

                // Once a request may reach the receiver it is finished and recorded, stopping or not (the channels'
                // HTTP timeout bounds it): cancelling it half-way would leave a sent alert pending, to be sent again.
                _unsent.TryRemove(delivery.Id, out _);
                var result = await channel.SendAsync(message, CancellationToken.None);
                await RecordAsync(channel.Name, delivery, result);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception exception)
            {
                LogSendFailed(logger, delivery.Id, channel.Name, exception);
            }
            finally
            {
                _queued.TryRemove(delivery.Id, out _);
            }
        }
    }

    private async Task RecordAsync(string channel, AlertDelivery delivery, SendResult result)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (result.Delivered)
        {
            metrics.Sent(channel);
            await writer.RecordAttemptAsync(new DeliveryAttempt(delivery.Id, AttemptOutcome.Delivered, now, now, null), CancellationToken.None);
            return;
        }

        var attempt = delivery.Attempts + 1;
        var error = result.Error ?? "failed";
        if (result.Permanent || (policy.Settings.MaxAttempts > 0 && attempt >= policy.Settings.MaxAttempts))
        {
            metrics.Failed(channel, givenUp: true);
            LogGaveUp(logger, delivery.Id, channel, error, attempt, delivery.GroupId);
            await writer.RecordAttemptAsync(new DeliveryAttempt(delivery.Id, AttemptOutcome.Failed, now, now, result.Error), CancellationToken.None);
            return;
        }

        var delay = Backoff(attempt, result.RetryAfter);
        metrics.Failed(channel, givenUp: false);
        LogRetry(logger, delivery.Id, channel, error, attempt, delay.TotalSeconds);
        await writer.RecordAttemptAsync(new DeliveryAttempt(delivery.Id, AttemptOutcome.RetryLater, now, now + delay, result.Error), CancellationToken.None);
    }

    /// <summary>1, 2, 4, ... seconds (by default), capped, each ±25 % so receivers coming back are not hit in step.</summary>
    private TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var exponential = policy.Settings.FirstRetry.TotalSeconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        var capped = Math.Min(exponential, policy.Settings.MaxRetry.TotalSeconds);
        var jittered = capped * (0.75 + (Random.Shared.NextDouble() * 0.5));
        var seconds = Math.Max(jittered, retryAfter?.TotalSeconds ?? 0);
        return TimeSpan.FromSeconds(Math.Min(seconds, Math.Max(policy.Settings.MaxRetry.TotalSeconds, retryAfter?.TotalSeconds ?? 0)));
    }

    /// <summary>
    /// The group as it is now (so a summary counts every alert that joined), or null when the delivery is no
    /// longer pending or its group is gone.
    /// </summary>
    private async Task<AlertMessage?> LoadAsync(AlertDelivery delivery, CancellationToken cancellationToken)
    {
        if (await reads.LoadDeliveryAsync(delivery.Id, delivery.GroupId, cancellationToken) is not var (alertGroup, feedback))
        {
            return null;
        }

        var link = policy.Settings.PublicUrl is { Length: > 0 } publicUrl
            ? new Uri(new Uri(publicUrl.TrimEnd('/') + "/"), feedback.Count > 0 ? $"feedback/{feedback[0].Id}" : $"alerts?group={alertGroup.Id}")
            : null;
        return new AlertMessage(
            delivery.Id, delivery.Kind, alertGroup.Id, alertGroup.Kind, alertGroup.Topic, alertGroup.Severity, alertGroup.State, alertGroup.Count,
            DateTime.SpecifyKind(alertGroup.FirstAt, DateTimeKind.Utc), DateTime.SpecifyKind(alertGroup.LastAt, DateTimeKind.Utc),
            AlertExcerpt.For(alertGroup.Kind, alertGroup.Summary, policy.Settings.RedactExcerpts), feedback, policy.Window, link);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handing back {Count} unsent deliveries failed; their leases expire instead")]
    private static partial void LogReleaseFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading due alert deliveries failed; the next poll retries")]
    private static partial void LogFeedFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} to {Channel} failed ({Error}), attempt {Attempt}; retrying in {DelaySeconds:0.0} s")]
    private static partial void LogRetry(ILogger logger, long deliveryId, string channel, string error, int attempt, double delaySeconds);

    [LoggerMessage(
        Level = LogLevel.Error,
        Message = "Delivery {DeliveryId} to {Channel} failed for good ({Error}) after {Attempt} attempt(s); POST /alerts/{AlertGroupId}/retry sends it again")]
    private static partial void LogGaveUp(ILogger logger, long deliveryId, string channel, string error, int attempt, long alertGroupId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery {DeliveryId} to {Channel} could not be processed; it stays pending")]
    private static partial void LogSendFailed(ILogger logger, long deliveryId, string channel, Exception exception);
}
