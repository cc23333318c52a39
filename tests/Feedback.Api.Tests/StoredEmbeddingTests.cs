using Feedback.Storage;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>The stored form of a sentence vector: 388 bytes for 384 dimensions, read back at unit length and nearly unchanged.</summary>
public sealed class StoredEmbeddingTests
{
    [Fact]
    public void A_unit_vector_is_stored_in_388_bytes_and_reads_back_with_a_cosine_above_0_9999()
    {
        var random = new Random(7);
        var vector = new float[384];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)(random.NextDouble() - 0.5);
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] /= norm;
        }

        var stored = StoredEmbedding.Encode(vector)!;
        var read = new float[384];

        stored.Length.ShouldBe(388);
        StoredEmbedding.TryDecode(stored, read).ShouldBeTrue();
        vector.Zip(read, (a, b) => a * b).Sum().ShouldBeGreaterThan(0.9999f);
        MathF.Sqrt(read.Sum(v => v * v)).ShouldBe(1f, 1e-5f);
    }

    [Fact]
    public void Bytes_of_another_length_are_not_read_as_a_vector()
    {
        StoredEmbedding.TryDecode(new byte[100], new float[384]).ShouldBeFalse();
    }
}
