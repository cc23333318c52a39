using Feedback.Analysis.Evaluation;
using Feedback.Analysis.Local;
using Feedback.Analysis.Local.Model;
using Feedback.Analysis.Local.Training;
using Shouldly;
using Xunit;

namespace Feedback.Analysis.Tests.Local;

public sealed class TrainedModelTests
{
    private static readonly LocalClassifier Classifier = new();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    [Theory]
    [InlineData("I love the new design but the app crashes every time I open it")]
    [InlineData("Great support team, but the mobile app is painfully slow")]
    public void Praise_and_complaint_in_separate_clauses_is_mixed(string text)
    {
        var result = Classifier.Classify(text);

        result.Sentiment.ShouldBe(Sentiment.Mixed);
        result.Reasons.ShouldContain(r => r.StartsWith("clause ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("It would be great if you could add dark mode")]
    [InlineData("Could you please add an option to export reports as PDF?")]
    [InlineData("Would love to see a calendar integration in a future release")]
    public void A_polite_feature_request_is_a_feature_request_and_not_negative(string text)
    {
        var result = Classifier.Classify(text);

        result.Topic.ShouldBe(Topic.FeatureRequest);
        result.Sentiment.ShouldNotBe(Sentiment.Negative);
    }

    [Fact]
    public void Topic_confidence_grows_with_the_topic_probability()
    {
        var map = TrainedModel.Default.TopicConfidenceMap;

        map.Length.ShouldBe(TrainedModel.ConfidenceKnots);
        for (var k = 1; k < map.Length; k++)
        {
            map[k].ShouldBeGreaterThanOrEqualTo(map[k - 1]);
        }

        TrainedModel.Default.TopicConfidence(0.99).ShouldBeGreaterThan(TrainedModel.Default.TopicConfidence(0.3));
    }

    /// <summary>
    /// The reader fills the interleaved rows straight from the file's separate sentiment, topic and clause arrays:
    /// every weight must come back in its own feature and class, to the bit. The weights sit on the file's 16-bit
    /// grid (multiples of 1/1024 up to 32,767/1024), so writing them loses nothing.
    /// </summary>
    [Fact]
    public void A_written_model_reads_back_every_weight_in_its_own_feature_and_class()
    {
        var random = new Random(20261126);
        float Weight() => random.Next(8, 32767) * (random.Next(2) == 0 ? -1 : 1) / 1024f;
        var sentiment = new float[FeatureLayout.Count * TrainedModel.SentimentCount];
        var topic = new float[FeatureLayout.Count * TrainedModel.TopicCount];
        var clauses = new float[FeatureLayout.HashedCount];
        foreach (var weights in new[] { sentiment, topic, clauses })
        {
            for (var k = 0; k < 5000; k++)
            {
                weights[random.Next(weights.Length)] = Weight();
            }

            weights[^1] = 32767 / 1024f;
        }

        var model = new TrainedModel(sentiment, topic, new ClauseModel(clauses, 0.25f), 1.5f, 1.1f, 0.9f, 0.3f);
        using var file = new MemoryStream();
        model.Write(file);
        file.Position = 0;
        var read = TrainedModel.Read(file);

        for (var f = 0; f < FeatureLayout.Count; f++)
        {
            read.SentimentRow(f).ToArray().ShouldBe(sentiment.AsSpan(f * TrainedModel.SentimentCount, TrainedModel.SentimentCount).ToArray());
            read.TopicRow(f).ToArray().ShouldBe(topic.AsSpan(f * TrainedModel.TopicCount, TrainedModel.TopicCount).ToArray());
        }

        read.Clauses.Weights.ShouldBe(clauses);
        read.Clauses.Bias.ShouldBe(0.25f);
    }

    [Theory]
    [InlineData("Sad to see the match end like that, what a game #football")]
    [InlineData("The app crashes when I open the reports tab. Please fix it.")]
    public void Mixed_needs_praise_and_complaint_in_different_clauses(string text)
    {
        Classifier.Classify(text).Sentiment.ShouldNotBe(Sentiment.Mixed);
    }

    [Fact]
    public void A_contrast_word_without_opposed_clauses_costs_mixed_less_than_no_contrast_but_still_costs()
    {
        var dense = new float[FeatureLayout.DenseCount];
        var plain = TrainedModel.MixedPrior(dense);
        dense[FeatureLayout.Contrast] = 1;
        var contrast = TrainedModel.MixedPrior(dense);
        dense[FeatureLayout.ClauseBoth] = 0.5f;
        var opposed = TrainedModel.MixedPrior(dense);

        plain.ShouldBe(-TrainedModel.MixedPenalty);
        contrast.ShouldBeGreaterThan(plain);
        contrast.ShouldBeLessThan(0);
        opposed.ShouldBe(TrainedModel.MixedShift);
    }

    [Fact]
    public void A_complaint_after_a_contrast_word_is_negative_not_mixed()
    {
        Classifier.Classify("I tried restarting it, but the sync still fails every single time.").Sentiment.ShouldBe(Sentiment.Negative);
    }

    [Fact]
    public void A_long_support_email_about_a_blocking_crash_is_a_negative_bug_report()
    {
        const string Email = "Hello support, I hope you are well. Since Monday the desktop app crashes every time one of us "
            + "opens a shared board with attachments. We reinstalled it twice and tried another computer, with the same result. "
            + "Five people cannot work and we have a release on Thursday. Could you please look into it urgently? Thanks, Sam";

        var result = Classifier.Classify(Email);

        result.Sentiment.ShouldBe(Sentiment.Negative);
        result.Topic.ShouldBe(Topic.Bug);
    }

    [Fact]
    public void Billing_messages_written_by_the_project_are_found_although_no_data_set_labels_billing()
    {
        var report = Evaluator.Evaluate(Fixture("topic_examples.csv"), Classifier);

        var billing = report.Topic.ShouldNotBeNull().PerClass["billing"];
        billing.Recall.ShouldBeGreaterThanOrEqualTo(0.8);
        billing.Precision.ShouldBeGreaterThanOrEqualTo(0.8);
    }

    [Fact]
    public void Performance_and_ux_examples_written_by_the_project_are_mostly_found()
    {
        var report = Evaluator.Evaluate(Fixture("topic_examples.csv"), Classifier);

        var topic = report.Topic.ShouldNotBeNull();
        topic.PerClass["performance"].Recall.ShouldBeGreaterThanOrEqualTo(0.5);
        topic.PerClass["ux"].Recall.ShouldBeGreaterThanOrEqualTo(0.5);
    }

    [Fact]
    public void Hand_written_product_feedback_is_classified_far_better_than_chance()
    {
        var report = Evaluator.Evaluate(Fixture("product_feedback.csv"), Classifier);

        report.Rows.ShouldBe(60);
        report.Sentiment.ShouldNotBeNull().Accuracy.ShouldBeGreaterThanOrEqualTo(0.65);
        report.Topic.ShouldNotBeNull().Accuracy.ShouldBeGreaterThanOrEqualTo(0.6);
    }

    [Fact]
    public void Hand_written_feedback_never_tuned_on_meets_the_issue_targets()
    {
        // Written before the local-4 tuning and kept out of it: the issue's bar for the hidden set.
        var report = Evaluator.Evaluate(Fixture("product_feedback_holdout.csv"), Classifier);

        report.Rows.ShouldBe(81);
        report.Sentiment.ShouldNotBeNull().Accuracy.ShouldBeGreaterThanOrEqualTo(0.75);
        report.Topic.ShouldNotBeNull().MacroF1.ShouldBeGreaterThanOrEqualTo(0.70);
    }

    [Fact]
    public void High_confidence_answers_on_hand_written_feedback_are_mostly_right()
    {
        var high = FixtureRows("product_feedback.csv")
            .Select(row => (Result: Classifier.Classify(row.Text), row.Label))
            .Where(x => x.Result.ConfidenceLevel == ConfidenceLevel.High)
            .ToList();

        high.Count.ShouldBeGreaterThan(5);
        (high.Count(x => x.Result.Sentiment == x.Label) / (double)high.Count).ShouldBeGreaterThan(0.8);
    }

    [Fact]
    public void Temperatures_fitted_on_held_out_rows_are_within_sane_bounds_and_probabilities_sum_to_one()
    {
        var model = TrainedModel.Default;

        model.SentimentTemperature.ShouldBeInRange(0.2f, 4f);
        model.TopicTemperature.ShouldBeInRange(0.2f, 4f);
        foreach (var text in new[] { "Terrible, it crashes all the time", "ok", "Please add dark mode", "Love it" })
        {
            var scores = Classifier.Classify(text).Scores;
            (scores.Positive + scores.Negative + scores.Neutral + scores.Mixed).ShouldBe(1, 1e-9);
        }
    }

    [Fact]
    public void A_language_the_model_was_not_trained_on_gets_low_confidence_for_sentiment_and_topic()
    {
        var result = Classifier.Classify("J'ai été facturé deux fois ce mois-ci, merci de me rembourser rapidement.");

        result.Language.ShouldBe("fr");
        result.ConfidenceLevel.ShouldBe(ConfidenceLevel.Low);
        result.TopicConfidence.ShouldNotBeNull().ShouldBeLessThan(0.5);
        result.Reasons.ShouldContain(r => r.StartsWith("language fr", StringComparison.Ordinal));
    }

    [Fact]
    public void Training_twice_on_the_same_rows_gives_identical_model_bytes()
    {
        var rows = TinyTrainingSet();

        var first = new ModelTrainer(FeaturePipeline.Default).Train(rows).ModelBytes;
        var second = new ModelTrainer(FeaturePipeline.Default).Train(rows).ModelBytes;

        second.ShouldBe(first);
        using var stream = new MemoryStream(first);
        var model = TrainedModel.Read(stream);
        new LocalClassifier(FeaturePipeline.Default, model).Classify("The app keeps crashing, awful").Sentiment.ShouldBe(Sentiment.Negative);
    }

    [Fact]
    public void The_split_holds_out_about_a_fifth_of_rows_by_text_alone()
    {
        var texts = Enumerable.Range(0, 5000).Select(i => $"message number {i}").ToList();

        var share = texts.Count(DataSplit.IsHeldOut) / (double)texts.Count;

        share.ShouldBeInRange(0.18, 0.22);
        DataSplit.IsHeldOut("same text").ShouldBe(DataSplit.IsHeldOut("same text"));
    }

    private static List<LabelledRow> TinyTrainingSet()
    {
        string[] good = ["love it", "great app", "works perfectly", "really fast and reliable", "best tool ever", "very happy with it", "excellent support", "so easy to use"];
        string[] bad = ["it crashes", "awful app", "keeps crashing", "slow and buggy", "terrible support", "waste of money", "broken again", "very disappointed"];
        var rows = new List<LabelledRow>();
        for (var round = 0; round < 4; round++)
        {
            rows.AddRange(good.Select(t => new LabelledRow("tiny_sentiment", $"{t} {round}", Sentiment.Positive, Topic.General)));
            rows.AddRange(bad.Select(t => new LabelledRow("tiny_sentiment", $"{t} {round}", Sentiment.Negative, Topic.Bug)));
        }

        return rows;
    }

    private static List<(string Text, Sentiment Label)> FixtureRows(string name)
    {
        using var reader = File.OpenText(Fixture(name));
        return CsvReader.ReadRecords(reader)
            .Where(r => !r[0].StartsWith('#') && r[0] != "text")
            .Select(r => (r[0], WireNames.TryParseSentiment(r[1], out var s) ? s : throw new InvalidDataException(r[1])))
            .ToList();
    }
}
