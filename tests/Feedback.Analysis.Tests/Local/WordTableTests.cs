using Feedback.Analysis.Local;
using Shouldly;
using Xunit;

namespace Feedback.Analysis.Tests.Local;

public sealed class WordTableTests
{
    [Fact]
    public void Every_word_is_found_with_the_hash_the_tokenizer_gives_it_and_no_other_word_is()
    {
        var words = Enumerable.Range(0, 500).Select(i => $"w{i}").Append("don't").Append("café").ToArray();
        var table = new WordTable<int>(words.Select((w, i) => new KeyValuePair<string, int>(w, i)).ToArray());
        var text = TokenizedText.For(string.Join(' ', words) + " w500 W7 dont");

        for (var i = 0; i < words.Length; i++)
        {
            table.TryGetValue(text[i].WordHash, text.Word(i), out var value).ShouldBeTrue(words[i]);
            value.ShouldBe(i);
        }

        // "W7" is folded to "w7" by the tokenizer; "dont" is the key of "don't", a different word.
        table.TryGetValue(text[words.Length].WordHash, text.Word(words.Length), out _).ShouldBeFalse();
        table.TryGetValue(text[words.Length + 1].WordHash, text.Word(words.Length + 1), out var folded).ShouldBeTrue();
        folded.ShouldBe(7);
        table.TryGetValue(text[words.Length + 2].KeyHash, text.Key(words.Length + 2), out _).ShouldBeFalse();
        table.TryGetValue(text[words.Length - 2].KeyHash, text.Key(words.Length - 2), out _).ShouldBeFalse();
    }

    [Fact]
    public void A_word_listed_twice_is_rejected()
    {
        Should.Throw<ArgumentException>(() => new WordTable<int>([new("slow", 1), new("slow", 2)]));
    }

    [Fact]
    public void The_longest_one_word_prefix_wins_and_a_key_shorter_than_every_prefix_matches_none()
    {
        var table = new PhraseTable<int>([new("app*", 1), new("application*", 2), new("crash*", 3)]);
        var text = TokenizedText.For("Applications apps ap crashing cra applause");

        table.TryMatch(text, 0, out var longest).ShouldBeTrue();
        longest.Value.ShouldBe(2);
        table.TryMatch(text, 1, out var shorter).ShouldBeTrue();
        shorter.Value.ShouldBe(1);
        table.TryMatch(text, 2, out _).ShouldBeFalse();
        table.TryMatch(text, 3, out var crash).ShouldBeTrue();
        crash.Value.ShouldBe(3);
        table.TryMatch(text, 4, out _).ShouldBeFalse();
        table.TryMatch(text, 5, out var applause).ShouldBeTrue();
        applause.Value.ShouldBe(1);
    }
}
