namespace Feedback.Api.Dashboard;

/// <summary>
/// Open /dashboard/events streams, counted per key and per client address (DASHBOARD_STREAMS_PER_KEY,
/// DASHBOARD_STREAMS_PER_ADDRESS). A stream stays open for hours, so it is kept out of the load-shedding budget,
/// which is for requests that end; these caps bound streams instead, and the number of keys bounds the total.
/// </summary>
internal sealed class EventStreamSlots(DashboardSettings settings)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _perKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perAddress = new(StringComparer.Ordinal);

    /// <summary>A slot to dispose when the stream ends, or null when the key or the address already has its share.</summary>
    public IDisposable? TryTake(string keyId, string address)
    {
        lock (_gate)
        {
            if (_perKey.GetValueOrDefault(keyId) >= settings.StreamsPerKey || _perAddress.GetValueOrDefault(address) >= settings.StreamsPerAddress)
            {
                return null;
            }

            _perKey[keyId] = _perKey.GetValueOrDefault(keyId) + 1;
            _perAddress[address] = _perAddress.GetValueOrDefault(address) + 1;
            return new Slot(this, keyId, address);
        }
    }

    private void Release(string keyId, string address)
    {
        lock (_gate)
        {
            Decrement(_perKey, keyId);
            Decrement(_perAddress, address);
        }
    }

    private static void Decrement(Dictionary<string, int> counts, string name)
    {
        if (counts[name] == 1)
        {
            counts.Remove(name);
        }
        else
        {
            counts[name]--;
        }
    }

    private sealed class Slot(EventStreamSlots owner, string keyId, string address) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(keyId, address);
            }
        }
    }
}
