namespace Feedback.Analysis;

/// <summary>
/// Least-recently-used cache with a time to live. One lock guards a dictionary and a recency list:
/// every operation is O(1) and holds the lock for well under a microsecond.
/// </summary>
public sealed class ClassificationCache
{
    private readonly Lock _gate = new();
    private readonly Dictionary<CacheKey, LinkedListNode<Entry>> _entries;
    private readonly LinkedList<Entry> _recency = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeToLive;
    private long _hits;
    private long _misses;

    public ClassificationCache(int maxSize, TimeSpan timeToLive, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeToLive, TimeSpan.Zero);
        MaxSize = maxSize;
        _timeToLive = timeToLive;
        _time = time;
        _entries = new Dictionary<CacheKey, LinkedListNode<Entry>>(Math.Min(maxSize, 4096));
    }

    public int MaxSize { get; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public bool TryGet(CacheKey key, out Classification value)
    {
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                if (_time.GetElapsedTime(node.Value.StoredAt, now) < _timeToLive)
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    value = node.Value.Value;
                    Interlocked.Increment(ref _hits);
                    return true;
                }

                _recency.Remove(node);
                _entries.Remove(key);
            }
        }

        Interlocked.Increment(ref _misses);
        value = null!;
        return false;
    }

    public void Set(CacheKey key, Classification value)
    {
        if (MaxSize == 0 || _timeToLive == TimeSpan.Zero)
        {
            return;
        }

        var entry = new Entry(key, value, _time.GetTimestamp());
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                existing.Value = entry;
                _recency.Remove(existing);
                _recency.AddFirst(existing);
                return;
            }

            if (_entries.Count >= MaxSize)
            {
                var oldest = _recency.Last!;
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Key);
            }

            _entries[key] = _recency.AddFirst(entry);
        }
    }

    private readonly record struct Entry(CacheKey Key, Classification Value, long StoredAt);
}
