using Shouldly;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Tests;

/// <summary>
/// The rules file's <c>match_rules</c>: who wrote a message and through which channel raise or cap its alert, checked
/// when the file loads. Slack and PagerDuty are configured; the README's example rules are the ones used here.
/// </summary>
public sealed class MatchRulesTests : IDisposable
{
    /// <summary>The example of the README's "Alert rules" section, word for word.</summary>
    private const string ReadmeExample = """
        {
          "match_rules": [
            { "if": { "metadata.plan": "enterprise" }, "at_least": "high" },
            { "if": { "customer_id": ["c-vip-1", "c-vip-2"] }, "at_least": "critical" },
            { "if": { "source": "app_store" }, "at_most": "medium" }
          ]
        }
        """;

    private const string Slow = "The reports page is a bit slow in the mornings, it takes a while to load.";
    private const string Outage = "Everything is down, this is an outage for our whole team.";

    private static readonly DateTime Now = new(2026, 11, 2, 9, 0, 0, DateTimeKind.Utc);

    private readonly List<string> _files = [];

    [Fact]
    public void The_readme_example_raises_enterprise_customers_pages_for_vips_and_never_for_app_store_reviews()
    {
        var grouping = Grouping(ReadmeExample);

        Severity(grouping, Slow, new AlertSubject("email", "c-1", null)).ShouldBe("medium");
        Severity(grouping, Slow, new AlertSubject("email", "c-1", """{"plan": "enterprise", "seats": 40}""")).ShouldBe("high");
        Severity(grouping, Slow, new AlertSubject("chat", "c-vip-2", null)).ShouldBe("critical");
        Severity(grouping, Outage, new AlertSubject("app_store", "c-1", null)).ShouldBe("medium");
        Severity(grouping, Outage, new AlertSubject("email", "c-1", null)).ShouldBe("critical");
    }

    [Fact]
    public void Every_condition_of_one_rule_must_hold()
    {
        var grouping = Grouping("""{"match_rules": [{"if": {"source": "email", "metadata.plan": "enterprise"}, "at_least": "critical"}]}""");

        Severity(grouping, Slow, new AlertSubject("email", null, """{"plan": "enterprise"}""")).ShouldBe("critical");
        Severity(grouping, Slow, new AlertSubject("chat", null, """{"plan": "enterprise"}""")).ShouldBe("medium");
        Severity(grouping, Slow, new AlertSubject("email", null, """{"plan": "team"}""")).ShouldBe("medium");
        Severity(grouping, Slow, new AlertSubject("email", null, null)).ShouldBe("medium");
    }

    [Fact]
    public void Metadata_numbers_and_booleans_match_as_written()
    {
        var grouping = Grouping("""{"match_rules": [{"if": {"metadata.seats": [500, 1000], "metadata.trial": false}, "at_least": "high"}]}""");

        Severity(grouping, Slow, new AlertSubject(null, null, """{"seats": 500, "trial": false}""")).ShouldBe("high");
        Severity(grouping, Slow, new AlertSubject(null, null, """{"seats": 501, "trial": false}""")).ShouldBe("medium");
        Severity(grouping, Slow, new AlertSubject(null, null, """{"seats": "500", "trial": true}""")).ShouldBe("medium");
    }

    [Fact]
    public void Where_two_rules_that_hold_disagree_the_later_one_wins()
    {
        var capFirst = Grouping("""{"match_rules": [{"if": {"source": "app_store"}, "at_most": "medium"}, {"if": {"customer_id": "c-vip"}, "at_least": "critical"}]}""");
        var raiseFirst = Grouping("""{"match_rules": [{"if": {"customer_id": "c-vip"}, "at_least": "critical"}, {"if": {"source": "app_store"}, "at_most": "medium"}]}""");
        var vipInAppStore = new AlertSubject("app_store", "c-vip", null);

        Severity(capFirst, Slow, vipInAppStore).ShouldBe("critical");
        Severity(raiseFirst, Slow, vipInAppStore).ShouldBe("medium");
    }

    [Fact]
    public void A_capped_message_does_not_escalate_its_group_past_the_cap_and_never_lowers_it()
    {
        var grouping = Grouping(ReadmeExample);
        var appStore = new AlertSubject("app_store", "c-1", null);
        var large = new OpenAlertGroup(3, "performance", AlertPolicy.Fingerprint(Slow) & ~MeaningFingerprint.Kind, "medium", 30, Now.AddMinutes(-1), Paged: false);

        var capped = grouping.Decide(new RaisedAlert("performance", Slow, 0.8, Now, appStore), null, [large]).ShouldBeOfType<AlertJoinsGroup>();
        capped.Group.Severity.ShouldBe("medium");
        capped.Deliveries.ShouldNotContain(d => d.Channel == "pagerduty");

        var uncapped = grouping.Decide(new RaisedAlert("performance", Slow, 0.8, Now, new AlertSubject("email", "c-1", null)), null, [large]).ShouldBeOfType<AlertJoinsGroup>();
        uncapped.Group.Severity.ShouldBe("critical");
        uncapped.Deliveries.ShouldContain(d => d.Channel == "pagerduty");

        var alreadyCritical = large with { Severity = "critical", Paged = true };
        grouping.Decide(new RaisedAlert("performance", Slow, 0.8, Now, appStore), null, [alreadyCritical])
            .ShouldBeOfType<AlertJoinsGroup>().Group.Severity.ShouldBe("critical");
    }

    [Theory]
    [InlineData("""{"match_rules": [{"if": {"plan": "enterprise"}, "at_least": "high"}]}""", "match_rules[1]", "\"plan\"")]
    [InlineData("""{"match_rules": [{"if": {"source": "email"}, "at_least": "urgent"}]}""", "match_rules[1]", "urgent")]
    [InlineData("""{"match_rules": [{"if": {"source": "email"}, "at_least": "high"}, {"if": {"source": "chat"}}]}""", "match_rules[2]", "at_most")]
    [InlineData("""{"match_rules": [{"if": {}, "at_most": "high"}]}""", "match_rules[1]", "no conditions")]
    [InlineData("""{"match_rules": [{"if": {"customer_id": []}, "at_most": "high"}]}""", "match_rules[1]", "no values")]
    [InlineData("""{"match_rules": [{"if": {"metadata.": "x"}, "at_most": "high"}]}""", "match_rules[1]", "metadata.")]
    [InlineData("""{"match_rules": [{"if": {"metadata.tier": {"a": 1}}, "at_most": "high"}]}""", "match_rules[1]", "metadata.tier")]
    [InlineData("""{"match_rules": [{"if": {"source": "email"}, "at_least": "critical", "at_most": "low"}]}""", "match_rules[1]", "above")]
    public void A_bad_rule_stops_the_load_naming_the_rule_and_the_fault(string json, string rule, string fault)
    {
        var message = Should.Throw<InvalidOperationException>(() => SeverityRules.Load(File(json))).Message;

        message.ShouldContain("ALERT_RULES_FILE");
        message.ShouldContain(rule);
        message.ShouldContain(fault);
    }

    [Fact]
    public void The_shipped_rules_have_no_match_rules_and_leave_every_subject_alone()
    {
        var rules = SeverityRules.Load(null);

        rules.Matches.Count.ShouldBe(0);
        rules.Matches.BoundsFor(new AlertSubject("app_store", "c-vip", """{"plan": "enterprise"}""")).ShouldBe(SeverityBounds.Any);
    }

    public void Dispose()
    {
        foreach (var file in _files)
        {
            System.IO.File.Delete(file);
        }
    }

    /// <summary>The severity of a new group opened by <paramref name="text"/> (topic performance, medium by the shipped rules).</summary>
    private static string Severity(AlertGrouping grouping, string text, AlertSubject subject) =>
        grouping.Decide(new RaisedAlert("performance", text, 0.8, Now, subject), null, []).ShouldBeOfType<AlertOpensGroup>().Severity;

    private AlertGrouping Grouping(string rulesJson)
    {
        var shipped = System.Text.Json.Nodes.JsonNode.Parse(
            typeof(SeverityRules).Assembly.GetManifestResourceStream("Feedback.Storage.alert-rules.json")!)!.AsObject();
        shipped["match_rules"] = System.Text.Json.Nodes.JsonNode.Parse(rulesJson)!["match_rules"]!.DeepClone();
        return new AlertGrouping(new AlertPolicy(
            new AlertSettings(
                TimeSpan.FromMinutes(10), 10, "http://slack.test/hook", null, null, null, "R0UT1NGKEY0123456789012345678901", null,
                TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5)),
            SeverityRules.Load(File(shipped.ToJsonString()))));
    }

    private string File(string json)
    {
        var path = Path.GetTempFileName();
        System.IO.File.WriteAllText(path, json);
        _files.Add(path);
        return path;
    }
}

/// <summary>ALERT_SENSITIVITY and the older ALERT_MIN_CONFIDENCE as the server and the CLI bind them.</summary>
public sealed class AlertSensitivitySettingsTests
{
    [Theory]
    [InlineData("", 0.50)]
    [InlineData("balanced", 0.50)]
    [InlineData("recall", 0.30)]
    [InlineData("PRECISION", 0.75)]
    public void The_sensitivity_sets_the_threshold_on_the_probability_of_negative_or_mixed(string sensitivity, double threshold)
    {
        var options = new AlertOptions { AlertSensitivity = sensitivity };

        options.RuleFailures().ShouldBeEmpty();
        options.AlertRule.MinimumProbability.ShouldBe(threshold);
        options.AlertRule.MinimumConfidence.ShouldBeNull();
    }

    [Fact]
    public void The_older_rule_applies_only_when_its_confidence_level_is_set_and_not_together_with_a_sensitivity()
    {
        new AlertOptions { AlertMinConfidence = "high" }.AlertRule.MinimumConfidence.ShouldBe(Feedback.Analysis.ConfidenceLevel.High);
        new AlertOptions { AlertMinConfidence = "high" }.RuleFailures().ShouldBeEmpty();

        new AlertOptions { AlertMinConfidence = "high", AlertSensitivity = "recall" }.RuleFailures()
            .ShouldHaveSingleItem().ShouldContain("ALERT_SENSITIVITY and ALERT_MIN_CONFIDENCE");
        new AlertOptions { AlertSensitivity = "paranoid" }.RuleFailures().ShouldHaveSingleItem().ShouldContain("ALERT_SENSITIVITY");
    }
}
