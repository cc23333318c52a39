using System.Numerics.Tensors;

namespace Feedback.Analysis.Similarity;

/// <summary>One message found by a similarity search: its id and the cosine of its vector with the query's.</summary>
public readonly record struct SimilarMessage(long Id, float Similarity);

/// <summary>
/// Exact cosine search over the stored messages' sentence vectors, kept in memory: message ids and unit vectors in one
/// contiguous block of floats, never the texts. A search compares the query with every vector (TensorPrimitives.Dot,
/// SIMD) and keeps the best; ties go to the newest message (the higher id). Thread-safe: writers append under a lock,
/// and a search reads the vectors present when it started without taking the lock while it compares them.
/// </summary>
public sealed class VectorIndex(int dimensions)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, int> _slots = [];
    private long[] _ids = new long[1024];
    private float[] _vectors = new float[1024 * dimensions];
    private int _used;

    public int Dimensions { get; } = dimensions;

    /// <summary>Messages the index can find.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _slots.Count;
            }
        }
    }

    /// <summary>Bytes held for the vectors and ids (the arrays' full capacity), for the bench.</summary>
    public long AllocatedBytes
    {
        get
        {
            lock (_gate)
            {
                return ((long)_vectors.Length * sizeof(float)) + ((long)_ids.Length * sizeof(long));
            }
        }
    }

    public bool Contains(long id)
    {
        lock (_gate)
        {
            return _slots.ContainsKey(id);
        }
    }

    /// <summary>The vector of a message, when the index holds one.</summary>
    public float[]? VectorOf(long id)
    {
        lock (_gate)
        {
            return _slots.TryGetValue(id, out var slot) ? _vectors.AsSpan(slot * Dimensions, Dimensions).ToArray() : null;
        }
    }

    /// <summary>
    /// Adds a message's unit vector, or replaces it (a revised answer brings a new one). A replaced vector is written to
    /// a new slot and the old one retired, so a search running meanwhile never reads half of each.
    /// </summary>
    public void Set(long id, ReadOnlySpan<float> unitVector)
    {
        if (unitVector.Length != Dimensions)
        {
            throw new ArgumentException($"A vector of {Dimensions} dimensions is needed, not {unitVector.Length}.", nameof(unitVector));
        }

        lock (_gate)
        {
            if (_used == _ids.Length)
            {
                // New arrays: a search that started on the old ones finishes on them undisturbed.
                var ids = new long[_ids.Length * 2];
                var vectors = new float[ids.Length * Dimensions];
                _ids.AsSpan(0, _used).CopyTo(ids);
                _vectors.AsSpan(0, _used * Dimensions).CopyTo(vectors);
                _vectors = vectors;
                _ids = ids;
            }

            unitVector.CopyTo(_vectors.AsSpan(_used * Dimensions, Dimensions));
            _ids[_used] = id;
            if (_slots.TryGetValue(id, out var old))
            {
                Volatile.Write(ref _ids[old], 0);
            }

            _slots[id] = _used;
            _used++;
        }
    }

    /// <summary>
    /// The <paramref name="limit"/> messages most similar to <paramref name="query"/> (a unit vector), best first, ties
    /// newest first; <paramref name="exclude"/> (the message asked about) is left out.
    /// </summary>
    public IReadOnlyList<SimilarMessage> Search(ReadOnlySpan<float> query, int limit, long exclude = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        long[] ids;
        float[] vectors;
        int used;
        lock (_gate)
        {
            ids = _ids;
            vectors = _vectors;
            used = _used;
        }

        // The kept best in a min-heap whose root is the worst of them: most rows fail the one comparison with the root.
        var best = new PriorityQueue<SimilarMessage, SimilarMessage>(limit + 1, WorstFirst.Instance);
        for (var slot = 0; slot < used; slot++)
        {
            var id = Volatile.Read(ref ids[slot]);
            if (id == 0 || id == exclude)
            {
                continue;
            }

            var found = new SimilarMessage(id, TensorPrimitives.Dot(query, vectors.AsSpan(slot * Dimensions, Dimensions)));
            if (best.Count < limit)
            {
                best.Enqueue(found, found);
            }
            else if (WorstFirst.Instance.Compare(found, best.Peek()) > 0)
            {
                best.EnqueueDequeue(found, found);
            }
        }

        var result = new SimilarMessage[best.Count];
        for (var i = result.Length - 1; i >= 0; i--)
        {
            result[i] = best.Dequeue();
        }

        return result;
    }

    /// <summary>Lower similarity first; of equal similarity the older (lower id) first, so the newer one is kept.</summary>
    private sealed class WorstFirst : IComparer<SimilarMessage>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare(SimilarMessage x, SimilarMessage y)
        {
            var bySimilarity = x.Similarity.CompareTo(y.Similarity);
            return bySimilarity != 0 ? bySimilarity : x.Id.CompareTo(y.Id);
        }
    }
}
