using Feedback.Analysis.Similarity;
using Shouldly;

namespace Feedback.Analysis.Tests;

public sealed class VectorIndexTests
{
    [Fact]
    public void A_search_returns_the_closest_vectors_best_first_and_the_newest_of_equal_ones_first()
    {
        var index = new VectorIndex(3);
        index.Set(1, Unit(1, 0, 0));
        index.Set(2, Unit(0, 1, 0));
        index.Set(3, Unit(1, 1, 0));
        index.Set(4, Unit(1, 0, 0));

        var found = index.Search(Unit(1, 0.1f, 0), limit: 3);

        found.Select(f => f.Id).ShouldBe([4L, 1L, 3L]);
        found[0].Similarity.ShouldBe(found[1].Similarity);
        found[1].Similarity.ShouldBeGreaterThan(found[2].Similarity);
    }

    [Fact]
    public void A_replaced_vector_is_found_by_its_new_value_once_and_the_excluded_id_never()
    {
        var index = new VectorIndex(2);
        for (var id = 1; id <= 3000; id++)
        {
            index.Set(id, Unit(0, 1));
        }

        index.Set(17, Unit(1, 0));

        var found = index.Search(Unit(1, 0), limit: 2, exclude: 3000);

        found[0].Id.ShouldBe(17);
        found[0].Similarity.ShouldBe(1f, 1e-6f);
        found.Select(f => f.Id).ShouldBe([17L, 2999L]);
        index.Count.ShouldBe(3000);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(45)]
    [InlineData(384)]
    public void The_byte_dot_product_equals_the_plain_sum_and_a_held_vector_keeps_its_cosines(int dimensions)
    {
        var random = new Random(dimensions);
        var a = Enumerable.Range(0, dimensions).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        var b = Enumerable.Range(0, dimensions).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();

        VectorIndex.Dot(a, b).ShouldBe(a.Zip(b, (x, y) => x * y).Sum());

        var u = Unit([.. Enumerable.Range(0, dimensions).Select(_ => (float)random.NextDouble() - 0.5f)]);
        var v = Unit([.. Enumerable.Range(0, dimensions).Select(_ => (float)random.NextDouble() - 0.5f)]);
        var index = new VectorIndex(dimensions);
        index.Set(1, v);
        index.Search(u, 1)[0].Similarity.ShouldBe(u.Zip(v, (x, y) => x * y).Sum(), 0.02f);
        index.Search(v, 1)[0].Similarity.ShouldBe(1f, 1e-5f);
    }

    private static float[] Unit(params float[] values)
    {
        var norm = MathF.Sqrt(values.Sum(v => v * v));
        return [.. values.Select(v => v / norm)];
    }
}
