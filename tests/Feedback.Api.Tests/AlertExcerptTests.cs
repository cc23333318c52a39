using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// The customer's words in alerts, as the bytes Slack, a webhook and PagerDuty receive on loopback show them: redacted
/// as the LLM's text is when REDACT_PII is on, and never turned into links or pings by Slack.
/// </summary>
public sealed class AlertExcerptTests : IAsyncLifetime
{
    // Critical (an outage), so PagerDuty is paged as well; an address, a phone number, a mention and a link to keep inert.
    private const string Outage =
        "Your whole site is down for everyone, a total outage since 9am. Mail jane.doe@example.com or call +1 (555) 123-4567, @here see https://status.example.test";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
    private readonly List<FeedbackApp> _apps = [];
    private RecordingReceiver _slack = null!;
    private RecordingReceiver _webhook = null!;
    private RecordingReceiver _pagerDuty = null!;

    public async ValueTask InitializeAsync()
    {
        _slack = await RecordingReceiver.StartAsync();
        _webhook = await RecordingReceiver.StartAsync();
        _pagerDuty = await RecordingReceiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        await _slack.DisposeAsync();
        await _webhook.DisposeAsync();
        await _pagerDuty.DisposeAsync();
    }

    [Fact]
    public async Task With_redaction_on_no_receiver_gets_the_customers_address_or_phone_number()
    {
        var app = Start();

        await app.Client().PostFeedbackAsync(new { text = Outage });
        await WaitForEveryReceiverAsync();

        foreach (var body in new[] { _slack.Requests[0].Body, _webhook.Requests[0].Body, _pagerDuty.Requests[0].Body })
        {
            body.ShouldNotContain("jane.doe@example.com");
            body.ShouldNotContain("123-4567");
            body.ShouldContain("[email]");
            body.ShouldContain("[phone]");
            body.ShouldContain("total outage");
        }

        _webhook.Requests[0].Json["data"]!["excerpt"]!.GetValue<string>().ShouldContain("Mail [email] or call [phone]");
    }

    [Fact]
    public async Task With_redaction_off_the_excerpt_is_sent_as_written()
    {
        var app = Start(("REDACT_PII", "false"));

        await app.Client().PostFeedbackAsync(new { text = Outage });
        await WaitForEveryReceiverAsync();

        _webhook.Requests[0].Json["data"]!["excerpt"]!.GetValue<string>().ShouldContain("jane.doe@example.com or call +1 (555) 123-4567");
    }

    [Fact]
    public async Task The_slack_excerpt_is_a_verbatim_mrkdwn_text_so_links_and_mentions_stay_text()
    {
        var app = Start();

        await app.Client().PostFeedbackAsync(new { text = Outage });
        await _slack.WaitForAsync(r => r.Count == 1);

        var excerpt = _slack.Requests[0].Json["blocks"]![2]!["text"]!;
        excerpt["type"]!.GetValue<string>().ShouldBe("mrkdwn");
        excerpt["verbatim"]!.GetValue<bool>().ShouldBeTrue();
        excerpt["text"]!.GetValue<string>().ShouldContain("@here see https://status.example.test");
    }

    private async Task WaitForEveryReceiverAsync()
    {
        await _slack.WaitForAsync(r => r.Count == 1);
        await _webhook.WaitForAsync(r => r.Count == 1);
        await _pagerDuty.WaitForAsync(r => r.Count == 1);
    }

    private FeedbackApp Start(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SLACK_WEBHOOK_URL"] = _slack.Url.ToString(),
            ["ALERT_WEBHOOK_URL"] = _webhook.Url.ToString(),
            ["PAGERDUTY_ROUTING_KEY"] = "R0UT1NGKEY0123456789012345678901",
            ["PAGERDUTY_URL"] = _pagerDuty.Url.ToString(),
            ["ALERT_SEND_INTERVAL_MS"] = "0",
            ["ALERT_POLL_SECONDS"] = "1",
            ["SPIKE_MIN_COUNT"] = "100000",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var app = new FeedbackApp(all, _time);
        _apps.Add(app);
        return app;
    }
}
