namespace Feedback.Storage.Alerts;

/// <summary>
/// At most <see cref="AlertSettings.PagesPerHour"/> PagerDuty pages in any hour. Anyone who may post feedback can
/// write "security outage, charged twice" in ever new words, and each new group of critical words would page on-call;
/// past the budget a group's page is held (stored as a delivery in the <see cref="Held"/> state, never sent) and counted
/// in one open summary group, whose single page, an hour after the first page it held, says how many were held.
/// Slack and webhooks are not budgeted. The store counts the pages in the transaction that queues one (PostgreSQL
/// under a lock all instances take), so instances sharing a store share the budget.
/// </summary>
internal sealed class PagingBudget(AlertSettings settings)
{
    /// <summary>The kind of the group that collects the held pages, beside 'feedback' and 'spike'.</summary>
    public const string SummaryKind = "page_budget";

    /// <summary>The state of a page the budget held back: it marks its group as paged, and no sender takes it.</summary>
    public const string Held = "held";

    /// <summary>What a summary group's row holds as its topic and summary: it stands for every topic.</summary>
    public const string SummaryTopic = "all";

    public static readonly TimeSpan Period = TimeSpan.FromHours(1);

    /// <summary>Whether <paramref name="delivery"/> is a page the budget counts: the first page of a group.</summary>
    public static bool Counts(string kind, string channel) => kind == "initial" && channel == AlertGrouping.PagerDuty;

    /// <summary>Pages queued after this time count against a page queued at <paramref name="at"/>.</summary>
    public static DateTime CountedSince(DateTime at) => at - Period;

    /// <summary>Whether one more page may go out when <paramref name="pagesInPeriod"/> were queued in the last hour.</summary>
    public bool Allows(long pagesInPeriod) => pagesInPeriod < settings.PagesPerHour;

    /// <summary>The summary group's one page, due an hour after the first page it holds.</summary>
    public static PlannedDelivery SummaryPage(DateTime firstHeldAt) => new("summary", AlertGrouping.PagerDuty, firstHeldAt + Period);

    /// <summary>The summary group's text; its count says how many pages it held.</summary>
    public const string Summary = "Critical alert groups past the paging budget (ALERT_PAGES_PER_HOUR) were not paged one by one; see /alerts.";

    /// <summary>What the summary's page says.</summary>
    public static string Title(int held) => $"{held} more critical {(held == 1 ? "alert" : "alerts")} in the last hour";
}
