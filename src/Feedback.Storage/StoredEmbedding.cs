using System.Buffers.Binary;
using System.Numerics.Tensors;

namespace Feedback.Storage;

/// <summary>
/// A message's sentence vector as stored in feedback.embedding (a BLOB in SQLite, <c>bytea</c> in PostgreSQL): the scale
/// as a little-endian float, then each component as a signed byte, component = byte × scale. 388 bytes for 384
/// dimensions, a quarter of the floats, and it keeps the cosine ranking of the floats (bench/RESULTS.md: int8 against
/// float16 on the same sample).
/// </summary>
internal static class StoredEmbedding
{
    private const int ScaleBytes = sizeof(float);

    /// <summary>The bytes stored for <paramref name="vector"/>; null for none.</summary>
    public static byte[]? Encode(ReadOnlySpan<float> vector)
    {
        if (vector.IsEmpty)
        {
            return null;
        }

        // MaxMagnitude returns the component itself, which may be negative.
        var largest = MathF.Abs(TensorPrimitives.MaxMagnitude(vector));
        var scale = largest > 0 ? largest / sbyte.MaxValue : 1f;
        var bytes = new byte[ScaleBytes + vector.Length];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, scale);
        for (var i = 0; i < vector.Length; i++)
        {
            bytes[ScaleBytes + i] = unchecked((byte)(sbyte)Math.Clamp(MathF.Round(vector[i] / scale), -sbyte.MaxValue, sbyte.MaxValue));
        }

        return bytes;
    }

    /// <summary>A stored vector decoded at unit length, as a new array: what a reader of the store works with.</summary>
    public static float[] Decode(byte[] stored)
    {
        var vector = new float[Dimensions(stored)];
        TryDecode(stored, vector);
        return vector;
    }

    /// <summary>The vector as the store gives it back (encoded, then decoded): what the benches compare, as the service would.</summary>
    public static float[] AsStored(ReadOnlySpan<float> vector) => Decode(Encode(vector)!);

    /// <summary>The number of dimensions of a stored vector.</summary>
    public static int Dimensions(ReadOnlySpan<byte> stored) => stored.Length - ScaleBytes;

    /// <summary>
    /// Writes the stored vector into <paramref name="destination"/> at unit length, so a dot product of two decoded
    /// vectors is their cosine. False when the bytes do not hold a vector of that many dimensions.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> stored, Span<float> destination)
    {
        if (stored.Length != ScaleBytes + destination.Length)
        {
            return false;
        }

        var scale = BinaryPrimitives.ReadSingleLittleEndian(stored);
        var components = stored[ScaleBytes..];
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = unchecked((sbyte)components[i]) * scale;
        }

        var norm = TensorPrimitives.Norm(destination);
        if (norm > 0)
        {
            TensorPrimitives.Divide(destination, norm, destination);
        }

        return true;
    }
}
