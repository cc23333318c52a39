using Feedback.Analysis.Local;
using Shouldly;
using Xunit;

namespace Feedback.Analysis.Tests.Local;

public sealed class LocalClassifierTests
{
    private static readonly LocalClassifier Classifier = new();

    [Fact]
    public void Negated_praise_is_negative()
    {
        Classifier.Classify("The new editor is not good at all").Sentiment.ShouldBe(Sentiment.Negative);
    }

    [Fact]
    public void Clear_complaint_is_negative_with_high_confidence()
    {
        var result = Classifier.Classify("This app is terrible, it crashes constantly");

        result.Sentiment.ShouldBe(Sentiment.Negative);
        result.Confidence.ShouldBeGreaterThan(0.8);
        result.ConfidenceLevel.ShouldBe(ConfidenceLevel.High);
    }

    [Fact]
    public void Clear_praise_is_positive()
    {
        Classifier.Classify("Love this app, the sync is fast and the interface is intuitive").Sentiment.ShouldBe(Sentiment.Positive);
    }

    [Fact]
    public void Bland_text_is_neutral_with_less_than_high_confidence()
    {
        var result = Classifier.Classify("It's ok I guess");

        result.Sentiment.ShouldBe(Sentiment.Neutral);
        result.Confidence.ShouldBeLessThan(0.8);
    }

    [Fact]
    public void Confidence_grows_with_the_strength_of_the_evidence()
    {
        var mild = Classifier.Classify("The export is a bit slow");
        var strong = Classifier.Classify("The export is horribly slow, it keeps crashing and I lost my data");

        mild.Sentiment.ShouldBe(Sentiment.Negative);
        strong.Confidence.ShouldBeGreaterThan(mild.Confidence);
    }

    [Fact]
    public void Praise_and_complaint_in_one_message_is_mixed()
    {
        var result = Classifier.Classify("I love the new design but the app crashes every time I open it");

        result.Sentiment.ShouldBe(Sentiment.Mixed);
        result.Reasons.ShouldContain(r => r.Contains("I love the new design", StringComparison.Ordinal));
    }

    [Fact]
    public void A_polite_bug_report_is_not_mixed()
    {
        Classifier.Classify("Thanks for the app. Please fix the login error").Sentiment.ShouldNotBe(Sentiment.Mixed);
    }

    [Theory]
    [InlineData("The app crashes every time I upload a photo", "bug")]
    [InlineData("Please add an option to export reports as PDF", "feature_request")]
    [InlineData("I was charged twice for my subscription this month", "billing")]
    [InlineData("Where is my refund? I cancelled before the trial ended", "billing")]
    [InlineData("The invoice shows the wrong price for the annual plan", "billing")]
    [InlineData("Pages take forever to load and it drains my battery", "performance")]
    [InlineData("The navigation is confusing and the settings are hard to find", "ux")]
    [InlineData("I have been a customer for three years", "general")]
    public void Topic_follows_the_phrases_in_the_taxonomy(string text, string expected)
    {
        Classifier.Classify(text).Topic.Name.ShouldBe(expected);
    }

    [Fact]
    public void Reasons_name_the_topic_phrase_and_the_strongest_word()
    {
        var reasons = Classifier.Classify("The app keeps crashing after the update").Reasons;

        reasons.ShouldContain(r => r.StartsWith("topic bug", StringComparison.Ordinal) && r.Contains("crash*", StringComparison.Ordinal));
        reasons.ShouldContain(r => r.StartsWith("words:", StringComparison.Ordinal) && r.Contains("keeps crashing", StringComparison.Ordinal));
    }

    [Fact]
    public void Spanish_text_is_detected_and_capped_at_low_confidence()
    {
        var result = Classifier.Classify("La aplicación no funciona y es muy lenta, estoy muy decepcionado con el servicio");

        result.Language.ShouldBe("es");
        result.Confidence.ShouldBeLessThan(0.5);
        result.ConfidenceLevel.ShouldBe(ConfidenceLevel.Low);
    }

    [Fact]
    public void German_text_is_detected_and_capped_at_low_confidence()
    {
        var result = Classifier.Classify("Die App ist sehr schlecht und stürzt immer ab, ich bin nicht zufrieden");

        result.Language.ShouldBe("de");
        result.Confidence.ShouldBeLessThan(0.5);
    }

    [Fact]
    public void Capping_a_foreign_text_keeps_the_label_that_the_scores_rank_first()
    {
        var result = Classifier.Classify("Die App ist super, ich bin sehr zufrieden und sie ist great");

        result.Scores.Top().ShouldBe(result.Sentiment);
        result.Confidence.ShouldBe(result.Scores[result.Sentiment]);
    }

    [Fact]
    public void English_text_is_detected_as_english()
    {
        Classifier.Classify("The report page does not load since yesterday").Language.ShouldBe("en");
    }

    [Theory]
    [InlineData("I love the new design but the app crashes every time I open it")]
    [InlineData("ok")]
    [InlineData("")]
    [InlineData("NEVER buying again!!! Charged me twice and support ignored me???")]
    public void Probabilities_of_the_four_sentiments_sum_to_one_and_confidence_is_the_chosen_one(string text)
    {
        var result = Classifier.Classify(text);
        var s = result.Scores;

        (s.Positive + s.Negative + s.Neutral + s.Mixed).ShouldBe(1, 1e-9);
        result.Confidence.ShouldBe(s[result.Sentiment]);
        s.Top().ShouldBe(result.Sentiment);
    }

    [Fact]
    public void The_same_text_gets_the_same_result_on_every_thread()
    {
        const string text = "Great features but the sync is painfully slow and I was charged twice";
        var expected = Classifier.Classify(text);

        var results = new Classification[64];
        Parallel.For(0, results.Length, i =>
        {
            // Interleave other texts so per-thread buffers are reused between calls.
            Classifier.Classify("Please add dark mode, the white screen hurts my eyes at night");
            results[i] = Classifier.Classify(text);
        });

        foreach (var result in results)
        {
            result.Sentiment.ShouldBe(expected.Sentiment);
            result.Topic.ShouldBe(expected.Topic);
            result.Scores.ShouldBe(expected.Scores);
            result.Reasons.ShouldBe(expected.Reasons);
        }
    }

    [Fact]
    public void Empty_text_is_neutral_general()
    {
        var result = Classifier.Classify("   ");

        result.Sentiment.ShouldBe(Sentiment.Neutral);
        result.Topic.ShouldBe(Topic.General);
        result.Language.ShouldBe("und");
    }

    [Theory]
    [InlineData(0.95, ConfidenceLevel.High)]
    [InlineData(0.80, ConfidenceLevel.Medium)]
    [InlineData(0.50, ConfidenceLevel.Medium)]
    [InlineData(0.49, ConfidenceLevel.Low)]
    public void Confidence_level_follows_the_contract_thresholds(double confidence, ConfidenceLevel expected)
    {
        var result = new Classification(Sentiment.Negative, Topic.Bug, confidence, SentimentScores.Uniform, "en", []);

        result.ConfidenceLevel.ShouldBe(expected);
    }

    [Theory]
    [InlineData("The new editor is not good at all")]
    [InlineData("I love the design but the app crashes every time I upload a photo.")]
    [InlineData("La aplicación se cierra cada vez que intento pagar, no funciona.")]
    [InlineData("Hi team, thanks for the quick reply yesterday. The export to PDF still fails with an error after the update. "
        + "I tried reinstalling and clearing the cache. It worked for a day and then it broke again. Could you please look into it?")]
    public void Without_reasons_the_labels_and_probabilities_are_the_same_to_the_bit(string text)
    {
        var explained = Classifier.Classify(text);

        var bare = Classifier.ClassifyWithoutReasons(text);

        explained.Reasons.ShouldNotBeEmpty();
        bare.Reasons.ShouldBeEmpty();
        bare.ShouldBe(explained with { Reasons = bare.Reasons, TopicScores = bare.TopicScores });
        bare.TopicConfidence.ShouldBe(explained.TopicConfidence);
        bare.TopicScores!.Topics.ShouldBe(explained.TopicScores!.Topics);
        bare.TopicScores.Values.ShouldBe(explained.TopicScores.Values);
    }

    [Fact]
    public void Version_names_the_local_model()
    {
        Classifier.Version.ShouldBe(LocalClassifier.CurrentVersion);
        Classifier.Version.ShouldStartWith("local-");
    }
}
