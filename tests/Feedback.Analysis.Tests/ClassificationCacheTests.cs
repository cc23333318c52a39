using Feedback.Analysis;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Analysis.Tests;

public sealed class ClassificationCacheTests
{
    private static readonly Classification Answer = new(Sentiment.Negative, Topic.Bug, 0.9, new(0.03, 0.9, 0.04, 0.03), "en", []);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void A_stored_answer_is_found_until_its_time_to_live_ends()
    {
        var cache = new ClassificationCache(10, TimeSpan.FromSeconds(60), _time);
        var key = TextRules.KeyFor("the app crashes", "v1");
        cache.Set(key, Answer);

        _time.Advance(TimeSpan.FromSeconds(59));
        cache.TryGet(key, out var found).ShouldBeTrue();
        found.ShouldBe(Answer);

        _time.Advance(TimeSpan.FromSeconds(2));
        cache.TryGet(key, out _).ShouldBeFalse();
        cache.Count.ShouldBe(0);
    }

    [Fact]
    public void The_least_recently_used_entry_is_evicted_when_full()
    {
        var cache = new ClassificationCache(2, TimeSpan.FromHours(1), _time);
        var a = TextRules.KeyFor("a message", "v1");
        var b = TextRules.KeyFor("b message", "v1");
        var c = TextRules.KeyFor("c message", "v1");
        cache.Set(a, Answer);
        cache.Set(b, Answer);
        cache.TryGet(a, out _).ShouldBeTrue();

        cache.Set(c, Answer);

        cache.TryGet(a, out _).ShouldBeTrue();
        cache.TryGet(b, out _).ShouldBeFalse();
        cache.TryGet(c, out _).ShouldBeTrue();
        cache.Count.ShouldBe(2);
    }

    [Fact]
    public void Hits_and_misses_are_counted()
    {
        var cache = new ClassificationCache(10, TimeSpan.FromHours(1), _time);
        var key = TextRules.KeyFor("x message", "v1");

        cache.TryGet(key, out _);
        cache.Set(key, Answer);
        cache.TryGet(key, out _);
        cache.TryGet(key, out _);

        cache.Hits.ShouldBe(2);
        cache.Misses.ShouldBe(1);
    }

    [Fact]
    public void A_size_of_zero_turns_the_cache_off()
    {
        var cache = new ClassificationCache(0, TimeSpan.FromHours(1), _time);
        var key = TextRules.KeyFor("x message", "v1");

        cache.Set(key, Answer);

        cache.TryGet(key, out _).ShouldBeFalse();
    }

    [Fact]
    public void The_key_depends_on_the_classifier_version_and_the_normalised_text()
    {
        var key = TextRules.KeyFor(TextRules.Normalise("  The app\n crashes  "), "v1");

        key.ShouldBe(TextRules.KeyFor(TextRules.Normalise("The app crashes"), "v1"));
        key.ShouldNotBe(TextRules.KeyFor(TextRules.Normalise("The app crashes"), "v2"));
        key.ShouldNotBe(TextRules.KeyFor(TextRules.Normalise("The APP crashes"), "v1"));
    }

    [Fact]
    public void The_key_is_the_sha256_digest_not_the_text()
    {
        var key = TextRules.KeyFor("The app crashes", "v1");
        var expected = System.Security.Cryptography.SHA256.HashData("v1\0The app crashes"u8);

        key.ShouldBe(CacheKey.From(expected));
    }
}
