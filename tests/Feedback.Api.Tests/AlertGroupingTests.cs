using Feedback.Api.Alerts;
using Shouldly;
using Feedback.Storage;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Tests;

/// <summary>
/// The alert decision both stores run: which group an alert joins or opens, how severe it is, and what it queues. Slack and
/// PagerDuty are configured, the window is 10 minutes and the rules are the shipped ones.
/// </summary>
public sealed class AlertGroupingTests
{
    private const string Crash = "The app crashes every time I open the camera, so frustrating (report 1).";
    private const string SameCrash = "The app crashes every time I open the camera, so frustrating (report 2).";
    private const string Billing = "I was charged twice for my subscription this month, I want a refund now.";
    private const string Slow = "The dashboard is a bit slow when I open the reports page in the morning.";

    private static readonly DateTime Now = new(2026, 11, 2, 9, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(10);

    private readonly AlertGrouping _grouping = new(new AlertPolicy(
        new AlertSettings(
            Window, 10, "http://slack.test/hook", null, null, null, "R0UT1NGKEY0123456789012345678901", null,
            TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5)),
        SeverityRules.Load(null)));

    [Fact]
    public void A_complaint_like_no_open_group_opens_one_and_announces_it_on_every_channel_now()
    {
        var decision = _grouping.Decide(Alert(Crash), null, [Group(1, Billing, Now.AddMinutes(-1))]);

        var open = decision.ShouldBeOfType<AlertOpensGroup>();
        (open.Topic, open.Count, open.FirstAt, open.DedupKey, open.Summary).ShouldBe(("bug", 1, Now, (string?)null, Crash));
        open.Fingerprint.ShouldBe(Words(Crash));
        open.Severity.ShouldBe("high");
        open.Deliveries.ShouldBe([new PlannedDelivery("initial", "slack", Now)]);
    }

    [Fact]
    public void A_near_duplicate_within_the_window_joins_the_open_group()
    {
        var group = Group(7, Crash, Now.AddMinutes(-9), count: 2);

        var join = _grouping.Decide(Alert(SameCrash), null, [group]).ShouldBeOfType<AlertJoinsGroup>();

        join.Group.Id.ShouldBe(7);
        join.Group.Count.ShouldBe(3);
        join.At.ShouldBe(Now);
    }

    [Fact]
    public void A_near_duplicate_of_a_group_older_than_the_window_opens_a_new_group()
    {
        var decision = _grouping.Decide(Alert(SameCrash), null, [Group(7, Crash, Now - Window - TimeSpan.FromSeconds(1))]);

        decision.ShouldBeOfType<AlertOpensGroup>().Count.ShouldBe(1);
    }

    [Fact]
    public void A_near_duplicate_of_another_topic_is_a_different_complaint()
    {
        var decision = _grouping.Decide(Alert(SameCrash), null, [Group(7, Crash, Now.AddMinutes(-1), topic: "performance")]);

        decision.ShouldBeOfType<AlertOpensGroup>();
    }

    [Fact]
    public void Of_several_open_groups_of_the_same_complaint_the_newest_is_joined()
    {
        OpenAlertGroup[] recent = [Group(3, Crash, Now.AddMinutes(-8)), Group(5, Crash, Now.AddMinutes(-4)), Group(6, Billing, Now.AddMinutes(-2))];

        _grouping.Decide(Alert(SameCrash), null, recent).ShouldBeOfType<AlertJoinsGroup>().Group.Id.ShouldBe(5);
    }

    [Fact]
    public void Only_the_newest_hundred_open_groups_of_a_topic_are_candidates()
    {
        var recent = Enumerable.Range(1, 101)
            .Select(i => i == 1 ? Group(i, Crash, Now.AddMinutes(-5)) : Group(i, Slow, Now.AddMinutes(-4)))
            .ToList();

        _grouping.Decide(Alert(SameCrash), null, recent).ShouldBeOfType<AlertOpensGroup>();
        _grouping.Decide(Alert(SameCrash), null, recent[..100]).ShouldBeOfType<AlertJoinsGroup>().Group.Id.ShouldBe(1);
    }

    [Fact]
    public void Joining_queues_a_summary_per_channel_for_the_end_of_the_groups_window()
    {
        var firstAt = Now.AddMinutes(-3);

        var join = _grouping.Decide(Alert(SameCrash), null, [Group(7, Crash, firstAt)]).ShouldBeOfType<AlertJoinsGroup>();

        join.Deliveries.ShouldBe([new PlannedDelivery("summary", "slack", firstAt + Window)]);
    }

    [Fact]
    public void A_joined_groups_severity_never_falls_below_what_it_was()
    {
        var join = _grouping.Decide(Alert(SameCrash), null, [Group(7, Crash, Now.AddMinutes(-1), severity: "critical", paged: true)])
            .ShouldBeOfType<AlertJoinsGroup>();

        join.Severity.ShouldBe("critical");
        join.Group.Severity.ShouldBe("critical");
    }

    [Fact]
    public void A_group_rises_a_level_as_it_reaches_five_alerts()
    {
        var four = Group(7, Slow, Now.AddMinutes(-1), count: 4, severity: "medium");

        var join = _grouping.Decide(Alert(Slow, "performance"), null, [four with { Topic = "performance" }]).ShouldBeOfType<AlertJoinsGroup>();

        join.Group.Count.ShouldBe(5);
        join.Severity.ShouldBe("high");
    }

    [Fact]
    public void A_joined_group_that_becomes_critical_pages_now_and_summarises_elsewhere()
    {
        var firstAt = Now.AddMinutes(-2);
        var nineteen = Group(7, Crash, firstAt, count: 19, severity: "high");

        var join = _grouping.Decide(Alert(SameCrash), null, [nineteen]).ShouldBeOfType<AlertJoinsGroup>();

        join.Severity.ShouldBe("critical");
        join.Deliveries.ShouldBe([new PlannedDelivery("summary", "slack", firstAt + Window), new PlannedDelivery("initial", "pagerduty", Now)]);
        join.Group.Paged.ShouldBeTrue();
    }

    [Fact]
    public void A_critical_group_that_paged_already_adds_a_summary_to_its_incident_instead_of_paging_again()
    {
        var firstAt = Now.AddMinutes(-2);

        var join = _grouping.Decide(Alert(SameCrash), null, [Group(7, Crash, firstAt, severity: "critical", paged: true)])
            .ShouldBeOfType<AlertJoinsGroup>();

        join.Deliveries.ShouldContain(new PlannedDelivery("summary", "pagerduty", firstAt + Window));
        join.Deliveries.ShouldNotContain(d => d.Kind == "initial");
    }

    [Fact]
    public void A_critical_complaint_opens_a_group_that_pages()
    {
        var open = _grouping.Decide(Alert(Billing, "billing"), null, []).ShouldBeOfType<AlertOpensGroup>();

        open.Severity.ShouldBe("critical");
        open.Deliveries.ShouldBe([new PlannedDelivery("initial", "slack", Now), new PlannedDelivery("initial", "pagerduty", Now)]);
        open.Stored(12).ShouldBe(new OpenAlertGroup(12, "billing", Words(Billing), "critical", 1, Now, Paged: true));
    }

    [Fact]
    public void An_excerpt_of_at_most_300_characters_summarises_a_new_group()
    {
        var text = "The app crashes " + new string('x', 400);

        var open = _grouping.Decide(Alert(text), null, []).ShouldBeOfType<AlertOpensGroup>();

        open.Summary.Length.ShouldBe(300);
        open.Summary.ShouldEndWith("...");
    }

    [Fact]
    public void The_instance_that_opened_a_shared_group_opens_its_row_under_the_shared_key_and_announces_it()
    {
        var shared = new SharedGroup("g1", First: true, Now, Count: 1);

        var open = _grouping.Decide(Alert(Crash), new StoredSharedGroup(shared, null, Resolved: false), [Group(7, Crash, Now.AddMinutes(-1))])
            .ShouldBeOfType<AlertOpensGroup>();

        open.DedupKey.ShouldBe("shared:g1");
        open.Deliveries.ShouldBe([new PlannedDelivery("initial", "slack", Now)]);
    }

    [Fact]
    public void A_shared_group_another_instance_opened_gets_a_row_here_that_only_summarises()
    {
        var firstAt = Now.AddMinutes(-2);
        var shared = new SharedGroup("g1", First: false, firstAt, Count: 3);

        var open = _grouping.Decide(Alert(SameCrash), new StoredSharedGroup(shared, null, Resolved: false), []).ShouldBeOfType<AlertOpensGroup>();

        (open.FirstAt, open.Count, open.DedupKey).ShouldBe((firstAt, 3, "shared:g1"));
        open.Deliveries.ShouldBe([new PlannedDelivery("summary", "slack", firstAt + Window)]);
    }

    [Fact]
    public void A_shared_groups_row_is_joined_and_counts_the_alerts_of_every_instance()
    {
        var firstAt = Now.AddMinutes(-2);
        var row = Group(9, Crash, firstAt, count: 2);
        var shared = new SharedGroup("g1", First: false, firstAt, Count: 6);

        var join = _grouping.Decide(Alert(SameCrash), new StoredSharedGroup(shared, row, Resolved: false), [Group(10, Crash, Now.AddMinutes(-1))])
            .ShouldBeOfType<AlertJoinsGroup>();

        join.Group.Id.ShouldBe(9);
        join.Group.Count.ShouldBe(6);
        join.Severity.ShouldBe("critical");
        join.Deliveries.ShouldBe([new PlannedDelivery("summary", "slack", firstAt + Window), new PlannedDelivery("initial", "pagerduty", Now)]);
    }

    [Fact]
    public void A_shared_group_whose_row_here_was_resolved_is_grouped_among_this_stores_own_groups()
    {
        var shared = new StoredSharedGroup(new SharedGroup("g1", First: false, Now.AddMinutes(-2), Count: 4), null, Resolved: true);

        AlertGrouping.GroupsAlone(shared).ShouldBeTrue();
        var join = _grouping.Decide(Alert(SameCrash), shared, [Group(10, Crash, Now.AddMinutes(-1))]).ShouldBeOfType<AlertJoinsGroup>();
        join.Group.Count.ShouldBe(2);
        _grouping.Decide(Alert(SameCrash), shared, []).ShouldBeOfType<AlertOpensGroup>().DedupKey.ShouldBeNull();
    }

    [Fact]
    public void The_alert_that_opened_a_shared_group_announces_it_even_when_another_instance_stored_the_group_first()
    {
        // Two instances on one database: the second alert of the group reached the store before the first.
        var firstAt = Now.AddMilliseconds(-40);
        var row = Group(9, Crash, firstAt);
        var shared = new SharedGroup("g1", First: true, Now, Count: 1);

        var join = _grouping.Decide(Alert(SameCrash), new StoredSharedGroup(shared, row, Resolved: false), []).ShouldBeOfType<AlertJoinsGroup>();

        join.Deliveries.ShouldBe([new PlannedDelivery("initial", "slack", Now)]);
        join.Group.Count.ShouldBe(2);
    }

    [Fact]
    public void A_spike_is_announced_at_once_on_every_channel_its_severity_goes_to()
    {
        _grouping.SpikeDeliveries("high", Now).ShouldBe([new PlannedDelivery("initial", "slack", Now)]);
        _grouping.SpikeDeliveries("critical", Now).ShouldBe([new PlannedDelivery("initial", "slack", Now), new PlannedDelivery("initial", "pagerduty", Now)]);
    }

    [Fact]
    public void An_alert_whose_vector_is_close_to_a_groups_joins_it_though_they_share_few_words()
    {
        var (vector, close, far) = Vectors();
        var group = new OpenAlertGroup(7, "bug", _grouping.Policy.GroupingFingerprint("The app crashes when I open settings.", vector), "high", 1, Now.AddMinutes(-1), Paged: false);

        var join = _grouping.Decide(Alert("Whenever I go into my preferences the application shuts down on me.", embedding: close), null, [group]);
        var other = _grouping.Decide(Alert("Whenever I go into my preferences the application shuts down on me.", embedding: far), null, [group]);

        join.ShouldBeOfType<AlertJoinsGroup>().Group.Id.ShouldBe(7);
        other.ShouldBeOfType<AlertOpensGroup>().Fingerprint.ShouldBe(MeaningFingerprint.Of(far)!.Value);
    }

    [Fact]
    public void An_alert_without_a_vector_is_grouped_by_its_words_and_never_joins_a_group_made_by_meaning()
    {
        var (vector, _, _) = Vectors();
        var byMeaning = new OpenAlertGroup(7, "bug", _grouping.Policy.GroupingFingerprint(Crash, vector), "high", 1, Now.AddMinutes(-2), Paged: false);
        var byWords = Group(8, Crash, Now.AddMinutes(-1));

        // The same text: by words it is the second group's complaint, and a words fingerprint never matches a meaning one.
        _grouping.Decide(Alert(Crash), null, [byMeaning]).ShouldBeOfType<AlertOpensGroup>().Fingerprint.ShouldBe(Words(Crash));
        _grouping.Decide(Alert(Crash), null, [byMeaning, byWords]).ShouldBeOfType<AlertJoinsGroup>().Group.Id.ShouldBe(8);
        _grouping.Policy.SameComplaint(byMeaning.Fingerprint, byMeaning.Fingerprint & ~MeaningFingerprint.Kind).ShouldBeFalse();
    }

    [Fact]
    public void Grouping_by_words_ignores_the_vector()
    {
        var (vector, _, _) = Vectors();
        var words = new AlertPolicy(
            new AlertSettings(
                Window, 10, "http://slack.test/hook", null, null, null, null, null,
                TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5), MeaningBits: null),
            SeverityRules.Load(null));

        words.GroupingFingerprint(Crash, vector).ShouldBe(Words(Crash));
        _grouping.Policy.GroupingFingerprint(Crash, vector).ShouldBe(MeaningFingerprint.Of(vector)!.Value);
        MeaningFingerprint.IsMeaning(_grouping.Policy.GroupingFingerprint(Crash, vector)).ShouldBeTrue();
    }

    [Fact]
    public void Resolving_a_group_that_paged_resolves_its_incident_and_tells_no_other_channel()
    {
        AlertGrouping.ResolutionDelivery(paged: true, Now).ShouldBe(new PlannedDelivery("resolve", "pagerduty", Now));
        AlertGrouping.ResolutionDelivery(paged: false, Now).ShouldBeNull();
    }

    private static RaisedAlert Alert(string text, string topic = "bug", byte[]? embedding = null) => new(topic, text, 0.8, Now, Embedding: embedding);

    /// <summary>
    /// Three stored vectors of 384 dimensions from a fixed seed: one, another at cosine 0.98 with it, and one at about 0
    /// (independent), so the test does not depend on the encoder.
    /// </summary>
    private static (byte[] Vector, byte[] Close, byte[] Far) Vectors()
    {
        var random = new Random(20261207);
        float[] Gaussian() => [.. Enumerable.Range(0, 384).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];
        var vector = Gaussian();
        var noise = Gaussian();
        var far = Gaussian();
        var close = vector.Zip(noise, (v, n) => v + (0.2f * n)).ToArray();
        return (StoredEmbedding.Encode(vector)!, StoredEmbedding.Encode(close)!, StoredEmbedding.Encode(far)!);
    }

    private static OpenAlertGroup Group(
        long id, string text, DateTime firstAt, int count = 1, string severity = "high", bool paged = false, string topic = "bug") =>
        new(id, topic, Words(text), severity, count, firstAt, paged);

    /// <summary>The grouping fingerprint of a message without a sentence vector: its words.</summary>
    private static long Words(string text) => AlertPolicy.Fingerprint(text) & ~MeaningFingerprint.Kind;
}
