namespace Feedback.Analysis.Llm;

/// <summary>
/// Stops calling a failing provider for a cool-down: after <c>threshold</c> failures in a row, or at once
/// when the provider answers 429 with Retry-After (honoured as given). After the cool-down one trial call
/// is let through; its success closes the circuit, its failure opens it again. A trial let through but never made
/// must be handed back (<see cref="ReturnTrial"/>): while one is out, no other call is tried.
/// </summary>
public sealed class ProviderCircuit(TimeProvider time, int threshold, TimeSpan breakDuration)
{
    private readonly Lock _gate = new();
    private int _failures;
    private DateTimeOffset _openUntil = DateTimeOffset.MinValue;
    private bool _trialInFlight;

    public bool IsOpen
    {
        get
        {
            lock (_gate)
            {
                return _openUntil > time.GetUtcNow() || _trialInFlight;
            }
        }
    }

    /// <summary>True when a call may be made now.</summary>
    public bool TryAcquire() => TryAcquire(out _);

    /// <summary>True when a call may be made now; <paramref name="trial"/> says it is the one trial after a break.</summary>
    public bool TryAcquire(out bool trial)
    {
        lock (_gate)
        {
            trial = false;
            if (_openUntil == DateTimeOffset.MinValue)
            {
                return true;
            }

            if (_openUntil > time.GetUtcNow() || _trialInFlight)
            {
                return false;
            }

            _trialInFlight = true;
            trial = true;
            return true;
        }
    }

    /// <summary>Hands back a trial that was let through but not made (no slot was free): the next call may try.</summary>
    public void ReturnTrial()
    {
        lock (_gate)
        {
            _trialInFlight = false;
        }
    }

    public void Succeeded()
    {
        lock (_gate)
        {
            _failures = 0;
            _trialInFlight = false;
            _openUntil = DateTimeOffset.MinValue;
        }
    }

    public void Failed(TimeSpan? retryAfter = null)
    {
        lock (_gate)
        {
            _failures++;
            var wasTrial = _trialInFlight;
            _trialInFlight = false;
            if (retryAfter is { } wait)
            {
                _openUntil = time.GetUtcNow() + wait;
            }
            else if (wasTrial || _failures >= threshold)
            {
                _openUntil = time.GetUtcNow() + breakDuration;
            }
        }
    }
}
