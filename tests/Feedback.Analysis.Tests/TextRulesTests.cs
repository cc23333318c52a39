using Shouldly;

namespace Feedback.Analysis.Tests;

public sealed class TextRulesTests
{
    [Theory]
    [InlineData("The export is slow.", "The export is slow.")]
    [InlineData("  The export\tis\r\n slow.  ", "The export is slow.")]
    [InlineData("The  export is slow.", "The export is slow.")]
    [InlineData("The export\u00A0is slow.", "The export is slow.")]
    public void Normalised_text_has_single_spaces_between_words_and_none_around_them(string text, string expected)
    {
        TextRules.Normalise(text).ShouldBe(expected);
    }

    [Theory]
    [InlineData("123456789", 10, true)]
    [InlineData("0123456789", 10, false)]
    [InlineData("\U0001F621\U0001F621\U0001F621\U0001F621\U0001F621", 10, true)]
    [InlineData("12345678\r\n", 10, true)]
    [InlineData("12345678\r\n0", 10, false)]
    public void Shorter_than_counts_characters_as_people_see_them(string text, int count, bool expected)
    {
        TextRules.IsShorterThan(text, count).ShouldBe(expected);
        (TextRules.Length(text) < count).ShouldBe(expected);
    }

    [Fact]
    public void Longer_than_counts_characters_as_people_see_them()
    {
        var emoji = string.Concat(Enumerable.Repeat("\U0001F621", 6));

        TextRules.IsLongerThan(emoji, 10).ShouldBeFalse();
        TextRules.IsLongerThan(emoji, 5).ShouldBeTrue();
        TextRules.IsLongerThan(new string('x', 11), 10).ShouldBeTrue();
    }
}
