namespace Feedback.Api.Operations;

/// <summary>
/// Counts events of one kind and says when to report them: at most once per interval, with how many came since the last
/// report, so that a flood of one warning (failed sign-ins, refused keys) is one log line per interval, not one per event.
/// </summary>
internal sealed class ReportThrottle(TimeProvider time, TimeSpan interval)
{
    private readonly Lock _gate = new();
    private long _unreported;
    private long? _reportedAt;

    /// <summary>Counts one event; how many to report now (this one included), or null while the interval since the last report runs.</summary>
    public long? Count()
    {
        lock (_gate)
        {
            _unreported++;
            var now = time.GetTimestamp();
            if (_reportedAt is { } at && time.GetElapsedTime(at, now) < interval)
            {
                return null;
            }

            var count = _unreported;
            _unreported = 0;
            _reportedAt = now;
            return count;
        }
    }
}
