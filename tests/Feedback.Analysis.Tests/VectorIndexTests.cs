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

    private static float[] Unit(params float[] values)
    {
        var norm = MathF.Sqrt(values.Sum(v => v * v));
        return [.. values.Select(v => v / norm)];
    }
}
