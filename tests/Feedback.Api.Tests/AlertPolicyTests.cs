using Feedback.Api.Alerts;
using Shouldly;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Tests;

public sealed class AlertPolicyTests
{
    private static readonly AlertPolicy Policy = new(
        new AlertSettings(TimeSpan.FromMinutes(10), 10, null, null, null, null, null, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5)),
        SeverityRules.Load(null));

    [Theory]
    [InlineData("The app crashes when I open the camera (report 1).", "The app crashes when I open the camera (report 9).")]
    [InlineData("The app crashes when I open the camera on my phone.", "the app crashes when i open the camera on my phone!!")]
    [InlineData("Checkout fails with error 500 when I pay with PayPal.", "Checkout fails with an error when I pay with PayPal.")]
    public void Near_duplicate_texts_are_the_same_complaint(string a, string b)
    {
        Policy.SameComplaint(Policy.GroupingFingerprint(a, null), Policy.GroupingFingerprint(b, null)).ShouldBeTrue();
    }

    [Theory]
    [InlineData("The app crashes when I open the camera on my phone.")]
    [InlineData("  Don't CHARGE me twice!!! 42 times, über-annoying; ça suffit.  ")]
    [InlineData("word")]
    [InlineData("123 456 ...")]
    [InlineData("")]
    [InlineData("Ünïcödé wörds and O'Brien's 'quoted' text\twith\ttabs\nand lines")]
    public void The_fingerprint_is_the_simhash_of_words_and_bigrams_stored_groups_were_made_with(string text)
    {
        AlertPolicy.Fingerprint(text).ShouldBe(ReferenceFingerprint(text));
    }

    [Theory]
    [InlineData("The app crashes when I open the camera on my phone.", "I was charged twice for my subscription this month.")]
    [InlineData("The app crashes when I open the camera on my phone.", "Sync deletes my calendar events and the widget crashes at night.")]
    public void Different_texts_are_different_complaints(string a, string b)
    {
        Policy.SameComplaint(Policy.GroupingFingerprint(a, null), Policy.GroupingFingerprint(b, null)).ShouldBeFalse();
    }

    [Theory]
    [InlineData("The whole site is down, a complete outage", "bug", 0.7, "critical")]
    [InlineData("I was charged twice this month", "billing", 0.6, "critical")]
    [InlineData("Somebody hacked my account and changed the email", "general", 0.6, "critical")]
    [InlineData("The app crashes on start", "bug", 0.6, "high")]
    [InlineData("The app is a bit slow today", "performance", 0.6, "medium")]
    [InlineData("The colours are ugly", "ux", 0.6, "low")]
    [InlineData("The colours are ugly", "ux", 0.95, "medium")]
    public void Severity_follows_the_rules_file(string text, string topic, double confidence, string expected)
    {
        Policy.SeverityOf(text, topic, confidence).ShouldBe(expected);
    }

    [Theory]
    [InlineData("low", 1, "low")]
    [InlineData("low", 5, "medium")]
    [InlineData("medium", 20, "critical")]
    [InlineData("critical", 50, "critical")]
    public void A_growing_group_becomes_more_severe(string severity, int size, string expected)
    {
        Policy.Escalate(severity, size).ShouldBe(expected);
    }

    [Fact]
    public void Pagerduty_is_only_for_critical_groups_and_the_log_is_the_channel_of_last_resort()
    {
        var withPager = new AlertPolicy(
            new AlertSettings(TimeSpan.FromMinutes(10), 10, "http://slack.test/x", null, null, null, "key", null, TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5)),
            SeverityRules.Load(null));

        withPager.ChannelsFor("critical").ShouldBe(["slack", "pagerduty"]);
        withPager.ChannelsFor("high").ShouldBe(["slack"]);
        Policy.ChannelsFor("critical").ShouldBe(["log"]);
    }

    [Theory]
    [InlineData(0, 2.0, 1.0)]
    [InlineData(3, 2.0, 0.3233235838)]
    [InlineData(10, 1.0, 1.1142547833e-7)]
    public void The_poisson_upper_tail_is_exact(int k, double lambda, double expected)
    {
        SpikeDetector.PoissonUpperTail(k, lambda).ShouldBe(expected, expected * 1e-6);
    }

    [Fact]
    public void A_rules_file_with_an_unknown_level_is_refused()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, """{"topics": {"bug": "urgent"}}""");

        Should.Throw<InvalidOperationException>(() => SeverityRules.Load(path)).Message.ShouldContain("urgent");
        File.Delete(path);
    }

    /// <summary>
    /// The fingerprint as first defined (words split out as strings, bigrams joined with a space, FNV-1a 64 of each,
    /// SimHash of the lot): the values in stored alert groups were made this way, so the fast one must agree.
    /// </summary>
    private static long ReferenceFingerprint(string text)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (var c in text + " ")
        {
            if (char.IsLetter(c) || c == '\'')
            {
                current.Append(char.ToLowerInvariant(c));
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }

        var features = words.Concat(words.Zip(words.Skip(1), (a, b) => a + " " + b));
        var weights = new int[64];
        foreach (var feature in features)
        {
            var hash = 14695981039346656037UL;
            foreach (var c in feature)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }

            for (var bit = 0; bit < 64; bit++)
            {
                weights[bit] += ((hash >> bit) & 1) == 1 ? 1 : -1;
            }
        }

        return (long)Enumerable.Range(0, 64).Where(bit => weights[bit] > 0).Aggregate(0UL, (f, bit) => f | (1UL << bit));
    }
}

public sealed class SeverityRulesForTaxonomyTests
{
    [Fact]
    public void A_renamed_topic_keeps_the_severity_of_the_built_in_topic_it_includes_and_a_new_one_gets_none()
    {
        var taxonomy = new Analysis.Taxonomy(
            [
                new Analysis.TopicDefinition(new Analysis.Topic("defect"), "", [Analysis.Topic.Bug], []),
                new Analysis.TopicDefinition(new Analysis.Topic("shipping"), "", [], ["Where is my parcel?"]),
                new Analysis.TopicDefinition(Analysis.Topic.General, "", [Analysis.Topic.General], []),
            ],
            Analysis.Topic.General);
        var builtIn = SeverityRules.Load(null);

        var rules = SeverityRules.Load(null, taxonomy);

        builtIn.Topics["bug"].ShouldNotBe("low");
        rules.Topics["defect"].ShouldBe(builtIn.Topics["bug"]);
        rules.Topics.ContainsKey("shipping").ShouldBeFalse();
        rules.SeverityOf("It broke.", "defect", 0.1).ShouldBe(builtIn.SeverityOf("It broke.", "bug", 0.1));
    }
}
