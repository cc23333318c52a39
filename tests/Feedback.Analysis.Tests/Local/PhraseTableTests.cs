using Feedback.Analysis.Local;
using Shouldly;
using Xunit;

namespace Feedback.Analysis.Tests.Local;

public sealed class PhraseTableTests
{
    [Fact]
    public void Trailing_star_matches_every_word_with_that_prefix_and_longest_phrase_wins()
    {
        var table = new PhraseTable<int>([new("crash*", 1), new("keeps crash*", 2), new("can't log in", 3)]);
        var text = TokenizedText.For("It keeps crashing and I cant log in");

        table.TryMatch(text, 1, out var keeps).ShouldBeTrue();
        keeps.Value.ShouldBe(2);
        table.TryMatch(text, 2, out var crashing).ShouldBeTrue();
        crashing.Value.ShouldBe(1);
        table.TryMatch(text, 5, out var login).ShouldBeTrue();
        login.Value.ShouldBe(3);
        table.TryMatch(text, 0, out _).ShouldBeFalse();
    }

    [Fact]
    public void A_phrase_listed_twice_is_rejected_at_load()
    {
        Should.Throw<InvalidDataException>(() => new PhraseTable<int>([new("doesn't work", 1), new("doesnt work", 2)]));
    }
}
