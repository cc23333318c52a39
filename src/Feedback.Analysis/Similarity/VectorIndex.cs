using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Feedback.Analysis.Similarity;

/// <summary>One message found by a similarity search: its id and the cosine of its vector with the query's.</summary>
public readonly record struct SimilarMessage(long Id, float Similarity);

/// <summary>
/// Exact cosine search over the stored messages' sentence vectors, kept in memory: message ids and vectors in one
/// contiguous block, never the texts. Each vector is held as the store holds it, one signed byte a component (largest
/// magnitude at 127) with a factor of 1 / its length, so a cosine is the integer dot product of two vectors times their
/// factors: a quarter of the bytes of floats. A query over 100,000 vectors streams its bytes from memory, and with floats
/// that stream, not the arithmetic, was the limit (bench/RESULTS.md: 4× a scalar loop with TensorPrimitives.Dot on
/// floats, 21× with bytes). The integer dot product is 32 components at a time (widened to 16 bits, multiply-add to 32
/// bits), which TensorPrimitives has no operation for. A search compares the query with every vector and keeps the best;
/// ties go to the newest message (the higher id). Thread-safe: writers append under a lock, and a search reads the
/// vectors present when it started without taking the lock while it compares them.
/// </summary>
public sealed class VectorIndex(int dimensions)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, int> _slots = [];
    private long[] _ids = new long[1024];
    private sbyte[] _vectors = new sbyte[1024 * dimensions];
    private float[] _factors = new float[1024];
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
                return _vectors.Length + ((long)_factors.Length * sizeof(float)) + ((long)_ids.Length * sizeof(long));
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

    /// <summary>The vector of a message at unit length (as held: to within the byte encoding), when the index holds one.</summary>
    public float[]? VectorOf(long id)
    {
        lock (_gate)
        {
            if (!_slots.TryGetValue(id, out var slot))
            {
                return null;
            }

            var vector = new float[Dimensions];
            var bytes = _vectors.AsSpan(slot * Dimensions, Dimensions);
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] = bytes[i] * _factors[slot];
            }

            return vector;
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
                var vectors = new sbyte[ids.Length * Dimensions];
                var factors = new float[ids.Length];
                _ids.AsSpan(0, _used).CopyTo(ids);
                _vectors.AsSpan(0, _used * Dimensions).CopyTo(vectors);
                _factors.AsSpan(0, _used).CopyTo(factors);
                _vectors = vectors;
                _factors = factors;
                _ids = ids;
            }

            _factors[_used] = Quantise(unitVector, _vectors.AsSpan(_used * Dimensions, Dimensions));
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
    /// Forgets a message (its customer's data was erased): its slot is retired as a replaced one is, and its bytes are
    /// zeroed, since they were read off the customer's words. False when the index did not hold it.
    /// </summary>
    public bool Remove(long id)
    {
        lock (_gate)
        {
            if (!_slots.Remove(id, out var slot))
            {
                return false;
            }

            Volatile.Write(ref _ids[slot], 0);
            _vectors.AsSpan(slot * Dimensions, Dimensions).Clear();
            return true;
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
        sbyte[] vectors;
        float[] factors;
        int used;
        lock (_gate)
        {
            ids = _ids;
            vectors = _vectors;
            factors = _factors;
            used = _used;
        }

        Span<sbyte> bytes = Dimensions <= 4096 ? stackalloc sbyte[Dimensions] : new sbyte[Dimensions];
        var queryFactor = Quantise(query, bytes);

        // The kept best in a min-heap whose root is the worst of them: most rows fail the one comparison with the root.
        var best = new PriorityQueue<SimilarMessage, SimilarMessage>(limit + 1, WorstFirst.Instance);
        for (var slot = 0; slot < used; slot++)
        {
            var id = Volatile.Read(ref ids[slot]);
            if (id == 0 || id == exclude)
            {
                continue;
            }

            var found = new SimilarMessage(id, Dot(bytes, vectors.AsSpan(slot * Dimensions, Dimensions)) * queryFactor * factors[slot]);
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

    /// <summary>
    /// Writes <paramref name="vector"/> as signed bytes, its largest magnitude at 127, and returns 1 / the bytes' length:
    /// the factor that makes a dot product of two such byte vectors their cosine.
    /// </summary>
    public static float Quantise(ReadOnlySpan<float> vector, Span<sbyte> destination)
    {
        var largest = vector.IsEmpty ? 0 : MathF.Abs(TensorPrimitives.MaxMagnitude(vector));
        var scale = largest > 0 ? sbyte.MaxValue / largest : 0;
        long squares = 0;
        for (var i = 0; i < vector.Length; i++)
        {
            var value = (sbyte)Math.Clamp(MathF.Round(vector[i] * scale), -sbyte.MaxValue, sbyte.MaxValue);
            destination[i] = value;
            squares += value * value;
        }

        return squares > 0 ? (float)(1 / Math.Sqrt(squares)) : 0;
    }

    /// <summary>The integer dot product of two byte vectors: 32 components at a time where the CPU has AVX2, 16 with SSE2.</summary>
    public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        var i = 0;
        var total = 0;
        ref var left = ref MemoryMarshal.GetReference(a);
        ref var right = ref MemoryMarshal.GetReference(b);
        if (Avx2.IsSupported && a.Length >= Vector256<sbyte>.Count)
        {
            var sum = Vector256<int>.Zero;
            for (; i <= a.Length - Vector256<sbyte>.Count; i += Vector256<sbyte>.Count)
            {
                var (aLow, aHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref left, (nuint)i));
                var (bLow, bHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref right, (nuint)i));
                sum += Avx2.MultiplyAddAdjacent(aLow, bLow) + Avx2.MultiplyAddAdjacent(aHigh, bHigh);
            }

            total = Vector256.Sum(sum);
        }
        else if (Vector128.IsHardwareAccelerated && a.Length >= Vector128<sbyte>.Count)
        {
            var sum = Vector128<int>.Zero;
            for (; i <= a.Length - Vector128<sbyte>.Count; i += Vector128<sbyte>.Count)
            {
                var (aLow, aHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref left, (nuint)i));
                var (bLow, bHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref right, (nuint)i));
                var (p0, p1) = Vector128.Widen(aLow * bLow);
                var (p2, p3) = Vector128.Widen(aHigh * bHigh);
                sum += p0 + p1 + p2 + p3;
            }

            total = Vector128.Sum(sum);
        }

        for (; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
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
