using Feedback.Analysis.Local;
using Shouldly;
using Xunit;

namespace Feedback.Analysis.Tests.Local;

public sealed class VaderTests
{
    private static readonly Vader Vader = new(SentimentLexicon.Default);

    private static double Compound(string text) => Vader.Analyze(text).Overall.Compound;

    [Theory]
    // Reference outputs published with vaderSentiment (README examples); our port must reproduce them.
    [InlineData("VADER is smart, handsome, and funny.", 0.8316)]
    [InlineData("VADER is smart, handsome, and funny!", 0.8439)]
    [InlineData("VADER is very smart, handsome, and funny.", 0.8545)]
    [InlineData("VADER is VERY SMART, handsome, and FUNNY.", 0.9227)]
    [InlineData("VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342)]
    [InlineData("The book was good.", 0.4404)]
    [InlineData("Today SUX!", -0.5461)]
    [InlineData("Not bad at all", 0.431)]
    public void Reference_sentences_score_as_in_the_original_vader(string text, double expected)
    {
        Compound(text).ShouldBe(expected, 0.0005);
    }

    [Fact]
    public void Negation_within_three_words_flips_and_shrinks_the_valence()
    {
        var praise = Compound("The support team was helpful");
        var negated = Compound("The support team was not very helpful");

        praise.ShouldBeGreaterThan(0);
        negated.ShouldBeLessThan(0);
        Math.Abs(negated).ShouldBeLessThan(praise);
    }

    [Fact]
    public void Booster_word_increases_and_dampener_decreases_the_magnitude()
    {
        var plain = Compound("The app is good");

        Compound("The app is extremely good").ShouldBeGreaterThan(plain);
        Compound("The app is slightly good").ShouldBeLessThan(plain);
        Compound("The app is slightly good").ShouldBeGreaterThan(0);
    }

    [Fact]
    public void All_caps_word_among_lower_case_words_is_emphasised()
    {
        Compound("The export is BAD").ShouldBeLessThan(Compound("The export is bad"));
    }

    [Fact]
    public void All_caps_everywhere_is_not_emphasis()
    {
        Compound("THE EXPORT IS BAD").ShouldBe(Compound("the export is bad"), 1e-9);
    }

    [Fact]
    public void Words_after_but_outweigh_words_before_it()
    {
        Compound("The app is great but the sync is bad").ShouldBeLessThan(0);
        Compound("The sync is bad but the app is great").ShouldBeGreaterThan(0);
    }

    [Fact]
    public void Least_before_a_word_flips_it_but_at_least_does_not()
    {
        Compound("This is the least helpful feature").ShouldBeLessThan(0);
        Compound("At least it is helpful").ShouldBeGreaterThan(0);
    }

    [Fact]
    public void Exclamation_marks_strengthen_and_stop_counting_after_four()
    {
        var one = Compound("Great update!");
        var four = Compound("Great update!!!!");

        four.ShouldBeGreaterThan(one);
        Compound("Great update!!!!!!!!").ShouldBe(four, 1e-9);
    }

    [Fact]
    public void Idioms_replace_the_valence_of_their_words()
    {
        Compound("Honestly this new editor is the bomb").ShouldBeGreaterThan(0.5);
    }

    [Fact]
    public void Typographic_apostrophes_negate_like_plain_ones()
    {
        Compound("I don\u2019t like the new menu").ShouldBe(Compound("I don't like the new menu"), 1e-9);
        Compound("I don't like the new menu").ShouldBeLessThan(0);
    }

    [Fact]
    public void Domain_phrases_score_what_vader_alone_misses()
    {
        Compound("The export doesn't work").ShouldBeLessThan(-0.3);
        Compound("I was charged twice this month").ShouldBeLessThan(-0.3);
        Compound("The app keeps freezing").ShouldBeLessThan(-0.3);
    }

    [Fact]
    public void Clauses_split_at_contrast_words_and_carry_their_own_scores()
    {
        var evidence = Vader.Analyze("I love the new dashboard, however exporting is broken");

        evidence.Clauses.Count.ShouldBe(2);
        evidence.StrongestPraise.ShouldBeGreaterThan(0.3);
        evidence.StrongestComplaint.ShouldBeGreaterThan(0.3);
    }
}
