using Feedback.Analysis.Local;
using Feedback.Analysis.Local.Model;
using Shouldly;
using Xunit;

namespace Feedback.Analysis.Tests.Local;

public sealed class ProductCuesTests
{
    private static readonly LocalClassifier Classifier = new();

    [Theory]
    [InlineData("The app crashes when I open settings.")]
    [InlineData("Export fails with error 500.")]
    [InlineData("Since the update I can't log in on my phone.")]
    [InlineData("Pages take forever to load since Tuesday.")]
    [InlineData("I was charged twice for the same invoice.")]
    public void A_factual_problem_report_without_emotional_words_is_negative(string text)
    {
        Classifier.Classify(text).Sentiment.ShouldBe(Sentiment.Negative);
    }

    [Theory]
    [InlineData("The app crashes when I open settings.", 1)]
    [InlineData("It keeps crashing and the search is slow.", 2)]
    [InlineData("Works great, no lag at all and it never freezes.", 0)]
    [InlineData("The crash on startup is fixed, thanks!", 0)]
    [InlineData("The app no longer crashes since the update.", 0)]
    [InlineData("No more lag since the last release.", 0)]
    public void Only_unresolved_and_unnegated_problems_count(string text, int expected)
    {
        Problems(text).ShouldBe(expected);
    }

    [Fact]
    public void A_problem_that_is_over_is_not_read_as_a_complaint()
    {
        Classifier.Classify("The crash on startup is fixed now, great work!").Sentiment.ShouldBe(Sentiment.Positive);
    }

    [Theory]
    [InlineData("Love the design but it crashes daily.")]
    [InlineData("The reports are brilliant, however exporting them fails every time.")]
    public void Praise_and_a_problem_in_separate_clauses_is_mixed(string text)
    {
        Classifier.Classify(text).Sentiment.ShouldBe(Sentiment.Mixed);
    }

    [Theory]
    [InlineData("It would be great if you could add a calendar export.")]
    [InlineData("It would be nice to have a weekly summary e-mail of open tasks.")]
    [InlineData("Could you add a way to pin favourite reports to the top?")]
    public void A_polite_request_without_praise_is_neutral(string text)
    {
        var result = Classifier.Classify(text);

        result.Sentiment.ShouldBe(Sentiment.Neutral);
        result.Topic.ShouldBe(Topic.FeatureRequest);
    }

    [Fact]
    public void A_request_that_also_praises_stays_positive()
    {
        Classifier.Classify("Absolutely love this app, and a home screen widget would make it perfect!").Sentiment.ShouldBe(Sentiment.Positive);
    }

    private static int Problems(string text)
    {
        var analysed = FeaturePipeline.Default.Run(text, TrainedModel.Default.Clauses);
        return analysed.Features.Priors.Problems;
    }
}
