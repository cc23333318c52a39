using Feedback.Analysis.Local;
using Feedback.Analysis.Local.Model;
using Shouldly;
using Xunit;

namespace Feedback.Analysis.Tests.Local;

public sealed class FeatureExtractorTests
{
    [Fact]
    public void Negations_are_read_on_the_word_with_its_apostrophes_as_VADER_reads_them()
    {
        var analysed = FeaturePipeline.Default.Run("dont don't isn't do'nt never no nothing's fine", TrainedModel.Default.Clauses);
        var negations = Enumerable.Range(0, analysed.Tokens.Count)
            .Select(i => (analysed.Features.KindsOf(i) & TokenKinds.Negation) != TokenKinds.None)
            .ToArray();

        negations.ShouldBe([true, true, true, false, true, false, false, false]);
        (analysed.Features.KindsOf(5) & TokenKinds.No).ShouldBe(TokenKinds.No);
        for (var i = 0; i < analysed.Tokens.Count; i++)
        {
            negations[i].ShouldBe(Vader.IsNegation(analysed.Tokens, i), $"token {i}");
        }
    }
}
