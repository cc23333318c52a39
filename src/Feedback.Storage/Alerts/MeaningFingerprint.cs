using System.Numerics.Tensors;

namespace Feedback.Storage.Alerts;

/// <summary>
/// A 64-bit fingerprint of what a message means, for grouping alerts: the signs of its stored sentence vector's
/// projections on 63 fixed directions (random-hyperplane hashing: two vectors at angle θ differ in about 63·θ/π of those
/// bits), with the top bit set, so that it is never taken for a word SimHash (<see cref="AlertPolicy.Fingerprint"/>, whose
/// top bit is clear) and <see cref="AlertPolicy.SameComplaint"/> compares only fingerprints of one kind, each with its
/// own number of bits. Near-duplicates that share few words ("charged twice" / "billed two times") land a few bits apart,
/// where their word SimHashes are as far apart as unrelated texts (bench/RESULTS.md, alert grouping).
/// Fingerprints are stored with their groups and shared through Redis: the directions must never change.
/// </summary>
internal static class MeaningFingerprint
{
    /// <summary>The top bit: set on a meaning fingerprint, clear on a word SimHash.</summary>
    public const long Kind = long.MinValue;

    private const int Bits = 63;

    private static readonly Lock Gate = new();
    private static float[][]? _directions;

    public static bool IsMeaning(long fingerprint) => (fingerprint & Kind) != 0;

    /// <summary>The fingerprint of a stored vector (<see cref="StoredEmbedding"/>); null when the bytes hold none.</summary>
    public static long? Of(ReadOnlySpan<byte> stored)
    {
        var dimensions = StoredEmbedding.Dimensions(stored);
        if (dimensions <= 0)
        {
            return null;
        }

        var vector = new float[dimensions];
        if (!StoredEmbedding.TryDecode(stored, vector))
        {
            return null;
        }

        var directions = DirectionsFor(dimensions);
        var fingerprint = Kind;
        for (var bit = 0; bit < Bits; bit++)
        {
            if (TensorPrimitives.Dot(directions[bit], vector) >= 0)
            {
                fingerprint |= 1L << bit;
            }
        }

        return fingerprint;
    }

    /// <summary>
    /// Each direction's components are +1 or -1, from SplitMix64 with a fixed seed: no floating-point generator whose
    /// output could differ between runtimes, and signs are all random-hyperplane hashing needs.
    /// </summary>
    private static float[][] DirectionsFor(int dimensions)
    {
        lock (Gate)
        {
            if (_directions is { } made && made[0].Length == dimensions)
            {
                return made;
            }

            var state = 0x5EED_F00D_0000_0001UL;
            var directions = new float[Bits][];
            for (var bit = 0; bit < Bits; bit++)
            {
                directions[bit] = new float[dimensions];
                for (var i = 0; i < dimensions; i += 64)
                {
                    var signs = Next(ref state);
                    for (var j = i; j < Math.Min(i + 64, dimensions); j++)
                    {
                        directions[bit][j] = ((signs >> (j - i)) & 1) == 1 ? 1f : -1f;
                    }
                }
            }

            _directions = directions;
            return directions;
        }
    }

    private static ulong Next(ref ulong state)
    {
        var z = state += 0x9E37_79B9_7F4A_7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return z ^ (z >> 31);
    }
}
