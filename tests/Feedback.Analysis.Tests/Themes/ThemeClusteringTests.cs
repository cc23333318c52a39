using Feedback.Analysis.Themes;
using Shouldly;

namespace Feedback.Analysis.Tests.Themes;

/// <summary>The clustering and the key phrases on vectors and texts made here (the real encoder's are in the API's ThemeTests).</summary>
public sealed class ThemeClusteringTests
{
    private const int Dimensions = 16;

    [Fact]
    public void Messages_near_one_of_two_directions_form_two_themes_and_a_message_near_neither_is_an_outlier()
    {
        var random = new Random(7);
        var (ids, vectors) = Make(random, (Axis(0), 10), (Axis(1), 8), (Axis(2), 1));

        var clusters = ThemeClustering.Cluster(ids, vectors, Dimensions, new ThemeThresholds(), TestContext.Current.CancellationToken);

        clusters.Themes.Select(t => t.Members.Length).Order().ShouldBe([8, 10]);
        clusters.Themes.Single(t => t.Members.Length == 10).Members.ShouldBe([.. Enumerable.Range(0, 10)]);
        clusters.Outliers.ShouldBe(1);
    }

    [Fact]
    public void The_same_vectors_in_another_order_under_other_ids_give_the_same_themes()
    {
        var random = new Random(11);
        var centres = Enumerable.Range(0, 6).Select(_ => Unit(random)).ToArray();
        var (ids, vectors) = Make(random, [.. centres.Select((c, i) => (c, 5 + i)), (Unit(random), 1), (Unit(random), 1)]);
        var order = Enumerable.Range(0, ids.Count).OrderBy(_ => random.Next()).ToArray();
        var otherIds = order.Select(i => 1000 - ids[i]).ToList();
        var otherVectors = order.SelectMany(i => vectors.AsSpan(i * Dimensions, Dimensions).ToArray()).ToArray();

        var first = ThemeClustering.Cluster(ids, vectors, Dimensions, new ThemeThresholds(), TestContext.Current.CancellationToken);
        var second = ThemeClustering.Cluster(otherIds, otherVectors, Dimensions, new ThemeThresholds(), TestContext.Current.CancellationToken);

        Partition(first, i => i).ShouldBe(Partition(second, i => order[i]));
        first.Themes.Count.ShouldBeGreaterThanOrEqualTo(5);
    }

    [Fact]
    public void Past_the_sample_the_themes_come_from_a_sample_every_other_message_joins_its_own_and_the_order_still_does_not_matter()
    {
        var random = new Random(29);
        var (ids, vectors) = Make(random, (Axis(0), 60), (Axis(1), 50), (Axis(2), 40), (Axis(3), 1));
        var order = Enumerable.Range(0, ids.Count).OrderBy(_ => random.Next()).ToArray();
        var otherIds = order.Select(i => 5000 - ids[i]).ToList();
        var otherVectors = order.SelectMany(i => vectors.AsSpan(i * Dimensions, Dimensions).ToArray()).ToArray();
        var sampled = new ThemeThresholds(Sample: 30);

        var first = ThemeClustering.Cluster(ids, vectors, Dimensions, sampled, TestContext.Current.CancellationToken);
        var second = ThemeClustering.Cluster(otherIds, otherVectors, Dimensions, sampled, TestContext.Current.CancellationToken);
        var whole = ThemeClustering.Cluster(ids, vectors, Dimensions, new ThemeThresholds(), TestContext.Current.CancellationToken);

        // Every message of each direction is in its theme, though only 30 of the 151 were clustered.
        first.Themes.Select(t => t.Members.Length).Order().ShouldBe([40, 50, 60]);
        first.Outliers.ShouldBe(1);
        Partition(first, i => i).ShouldBe(Partition(second, i => order[i]));
        Partition(first, i => i).ShouldBe(Partition(whole, i => i));
    }

    [Fact]
    public void A_new_message_joins_the_theme_it_is_closest_to_and_one_far_from_all_joins_none()
    {
        var random = new Random(3);
        var (ids, vectors) = Make(random, (Axis(0), 6), (Axis(1), 6));
        var at = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        var sources = ids.Select(id => new ThemeSource(id, at, "negative", "bug", "The export fails")).ToList();
        var snapshot = ThemeSnapshot.Build(sources, vectors, Dimensions, new ThemeThresholds(), at, TestContext.Current.CancellationToken);
        var window = new ThemeWindow(at.AddDays(-1), at.AddDays(1));

        var near = Noisy(random, Axis(1), 0.05f);
        snapshot.Join(100, at, "negative", "bug", near).ShouldBe(snapshot.Themes.ToList().FindIndex(t => t.Id == "t6"));
        snapshot.Join(101, at, "positive", "ux", Axis(5)).ShouldBe(-1);

        var (themes, outlierShare, messages) = snapshot.View(window, minSize: 1);
        messages.ShouldBe(14);
        outlierShare.ShouldBe(1 / 14.0, 1e-9);
        themes.Single(t => t.Theme.Id == "t6").MemberIds.ShouldContain(100);
        snapshot.View(window with { Sentiment = "positive" }, 1).Messages.ShouldBe(1);
    }

    [Fact]
    public void Growth_compares_a_window_with_the_one_of_equal_length_before_it()
    {
        var random = new Random(5);
        var (ids, vectors) = Make(random, (Axis(0), 6));
        var monday = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
        var sources = ids.Select(id => new ThemeSource(id, id < 2 ? monday.AddHours(-12) : monday.AddHours(6), "negative", "bug", "x")).ToList();
        var snapshot = ThemeSnapshot.Build(sources, vectors, Dimensions, new ThemeThresholds(), monday, TestContext.Current.CancellationToken);

        var theme = snapshot.View(new ThemeWindow(monday, monday.AddDays(1)), 1).Themes.Single();

        theme.Size.ShouldBe(4);
        theme.PreviousSize.ShouldBe(2);
        theme.Growth.ShouldBe(1.0);
        theme.FirstAt.ShouldBe(monday.AddHours(6));
        theme.ExampleIds.Count.ShouldBe(4);
    }

    [Fact]
    public void Key_phrases_are_what_sets_a_theme_apart_without_stop_words_or_near_duplicates()
    {
        string[] export = ["The CSV export times out.", "Export to CSV times out again", "my csv export is failing", "exports time out on big files"];
        string[] billing = ["I was charged twice this month", "Charged twice for one order", "double charge on my card"];
        string[] other = ["The app is great", "Love the new design of the app", "The app crashes on start"];

        var phrases = KeyPhrases.Extract([export, billing], other);

        // "csv" is in three of the four export messages and in none of the others.
        phrases[0][0].Phrase.ShouldBe("csv");
        phrases[0].ShouldContain(p => p.Phrase.Contains("export", StringComparison.Ordinal));
        phrases[1][0].Phrase.ShouldBe("charged twice");
        var words = phrases[0].SelectMany(p => p.Phrase.Split(' ')).ToList();
        words.ShouldNotContain("the");
        words.Count(w => w.StartsWith("expor", StringComparison.Ordinal)).ShouldBe(1);
        phrases.SelectMany(p => p).ShouldNotContain(p => p.Phrase == "app");
        KeyPhrases.Label(phrases[0]).ShouldStartWith("csv, ");
    }

    private static (List<long> Ids, float[] Vectors) Make(Random random, params (float[] Centre, int Count)[] groups)
    {
        var ids = new List<long>();
        var vectors = new List<float>();
        foreach (var (centre, count) in groups)
        {
            for (var i = 0; i < count; i++)
            {
                ids.Add(ids.Count);
                vectors.AddRange(Noisy(random, centre, 0.08f));
            }
        }

        return (ids, [.. vectors]);
    }

    private static float[] Noisy(Random random, float[] centre, float noise)
    {
        var v = centre.Select(c => c + ((float)random.NextDouble() - 0.5f) * 2 * noise).ToArray();
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }

    private static float[] Axis(int d)
    {
        var v = new float[Dimensions];
        v[d] = 1;
        return v;
    }

    private static float[] Unit(Random random) => Noisy(random, new float[Dimensions], 1);

    private static List<string> Partition(ThemeClusters clusters, Func<int, int> original) =>
        [.. clusters.Themes.Select(t => string.Join(',', t.Members.Select(original).Order())).Order(StringComparer.Ordinal)];
}
