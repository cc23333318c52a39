using System.Text.RegularExpressions;
using Feedback.Analysis.Llm;

namespace Feedback.Api.Alerts;

/// <summary>
/// The customer's words an alert carries to Slack, webhooks and PagerDuty: with REDACT_PII on, redacted as the text sent
/// to the LLM is, since those receivers keep what they get as long as any LLM provider would.
/// </summary>
internal static class AlertExcerpt
{
    public const string Withheld = "(excerpt withheld: it could not be redacted)";

    /// <summary>
    /// A group's summary as channels may send it. A message group's summary is customer text; an emerging theme's holds
    /// customers' words on its label and example lines (<see cref="EmergingThemes.IsCustomerText"/>); a spike's is the
    /// service's own statistic, whose times and counts the phone pattern could mangle, as could a theme's other lines.
    /// </summary>
    public static string For(string groupKind, string summary, bool redact)
    {
        if (!redact)
        {
            return summary;
        }

        return groupKind switch
        {
            "feedback" => Redact(summary),
            EmergingThemes.Kind => string.Join('\n', summary.Split('\n').Select(line => EmergingThemes.IsCustomerText(line) ? Redact(line) : line)),
            _ => summary,
        };
    }

    private static string Redact(string text)
    {
        try
        {
            return PiiRedactor.Redact(text);
        }
        catch (RegexMatchTimeoutException)
        {
            // Unredacted text must not go out, and a delivery must not fail for good over its excerpt.
            return Withheld;
        }
    }
}
