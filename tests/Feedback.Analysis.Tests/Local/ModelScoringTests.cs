using Feedback.Analysis.Local.Model;
using Shouldly;
using Xunit;

namespace Feedback.Analysis.Tests.Local;

/// <summary>
/// The model's sums are written for speed (four classes to a register, one run per clause); these check them against
/// the plain definitions, to the bit, so a stored classification never changes with the code that computes it.
/// </summary>
public sealed class ModelScoringTests
{
    private const string LongText =
        "Thanks for the quick reply yesterday. I love the new dashboard, but the app crashes every time I export a report, "
        + "and sync is painfully slow since the update; please add an option to pause it. The invoice showed a charge I never agreed to!";

    /// <summary>Weights everywhere (not the trained model's sparse ones), so every feature of the text moves every sum.</summary>
    private static readonly TrainedModel Model = RandomModel();

    [Theory]
    [InlineData(LongText)]
    [InlineData("The app crashes.")]
    [InlineData("Great support team, but the mobile app is painfully slow")]
    public void Logits_are_the_feature_by_feature_sums_of_float_products_in_double(string text)
    {
        var model = Model;
        var features = FeaturePipeline.Default.Run(text, model.Clauses).Features;
        Span<double> sentiment = stackalloc double[TrainedModel.SentimentCount];
        Span<double> topic = stackalloc double[TrainedModel.TopicCount];
        model.Logits(features, sentiment, topic);

        var expectedSentiment = new double[TrainedModel.SentimentCount];
        var expectedTopic = new double[TrainedModel.TopicCount];
        for (var k = 0; k < features.Count; k++)
        {
            var value = features.Values[k];
            var sentimentRow = model.SentimentRow(features.Indices[k]);
            var topicRow = model.TopicRow(features.Indices[k]);
            for (var c = 0; c < expectedSentiment.Length; c++)
            {
                expectedSentiment[c] += sentimentRow[c] * value;
            }

            for (var c = 0; c < expectedTopic.Length; c++)
            {
                expectedTopic[c] += topicRow[c] * value;
            }
        }

        expectedSentiment[(int)Sentiment.Mixed] += TrainedModel.MixedPrior(features.Dense);
        TrainedModel.ApplyCuePriors(features.Priors, expectedSentiment);
        TrainedModel.AddTaxonomyPrior(features.Dense, model.TaxonomyPrior, model.GeneralShift, expectedTopic);

        features.Count.ShouldBeGreaterThan(10);
        Bits(sentiment.ToArray()).ShouldBe(Bits(expectedSentiment));
        Bits(topic.ToArray()).ShouldBe(Bits(expectedTopic));
    }

    [Theory]
    [InlineData(LongText)]
    [InlineData("I love the design, but the app crashes however hard I try")]
    public void Each_clause_scores_its_own_word_weights_over_the_root_of_their_number(string text)
    {
        var model = Model;
        var features = FeaturePipeline.Default.Run(text, model.Clauses).Features;
        var scores = new float[features.ClauseCount];
        model.Clauses.ScoreClauses(features, scores);

        var expected = new float[features.ClauseCount];
        for (var c = 0; c < expected.Length; c++)
        {
            var sum = 0f;
            var count = 0;
            for (var k = 0; k < features.WordCount; k++)
            {
                if (features.ClauseOf[k] == c)
                {
                    sum += model.Clauses.Weights[features.WordIndices[k]];
                    count++;
                }
            }

            expected[c] = count == 0 ? 0 : model.Clauses.Bias + (sum / MathF.Sqrt(count));
        }

        features.ClauseCount.ShouldBeGreaterThan(2);
        scores.Select(BitConverter.SingleToInt32Bits).ShouldBe(expected.Select(BitConverter.SingleToInt32Bits));
    }

    private static TrainedModel RandomModel()
    {
        var random = new Random(20261126);
        var sentiment = new float[FeatureLayout.Count * TrainedModel.SentimentCount];
        var topic = new float[FeatureLayout.Count * TrainedModel.TopicCount];
        var clauses = new float[FeatureLayout.HashedCount];
        foreach (var weights in new[] { sentiment, topic, clauses })
        {
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = (float)((random.NextDouble() * 2) - 1) / 3;
            }
        }

        return new TrainedModel(sentiment, topic, new ClauseModel(clauses, 0.25f), 1.5f, 1.1f, 0.9f, 0.3f);
    }

    private static long[] Bits(double[] values) => [.. values.Select(BitConverter.DoubleToInt64Bits)];
}
