using Feedback.Analysis.Local;
using Shouldly;
using Xunit;

namespace Feedback.Analysis.Tests.Local;

/// <summary>The lexicon shares one table with VADER's boosters, negations and clause openers; each keeps its own meaning.</summary>
public sealed class SentimentLexiconTests
{
    private static readonly SentimentLexicon Small = new([new("good", 1.9), new("sadly", -1.8)], []);

    [Fact]
    public void A_booster_that_is_not_a_lexicon_word_scores_nothing_alone_but_still_boosts()
    {
        var vader = new Vader(Small);

        Small.Contains("very").ShouldBeFalse();
        Small.WordCount.ShouldBe(2);
        vader.Analyze("very").Overall.Compound.ShouldBe(0);
        vader.Analyze("very good").Overall.Compound.ShouldBeGreaterThan(vader.Analyze("good").Overall.Compound);
    }

    [Fact]
    public void A_lexicon_word_that_opens_a_clause_keeps_its_valence_and_splits_the_clause()
    {
        var evidence = new Vader(Small).Analyze("the app is good sadly it crashes");

        evidence.Clauses.Count.ShouldBe(2);
        evidence.Clauses[0].Compound.ShouldBeGreaterThan(0);
        evidence.Clauses[1].Compound.ShouldBeLessThan(0);
    }

    [Fact]
    public void A_negation_before_a_lexicon_word_flips_it()
    {
        var vader = new Vader(Small);

        vader.Analyze("not good").Overall.Compound.ShouldBeLessThan(0);
        vader.Analyze("it mayn't be good").Overall.Compound.ShouldBeLessThan(0);
    }
}
