namespace Feedback.Storage.Alerts;

/// <summary>A stored message that raises an alert, as grouping sees it.</summary>
/// <param name="Subject">Who wrote the message and through which channel, for the rules file's <c>match_rules</c>.</param>
/// <param name="Embedding">Its stored sentence vector (<see cref="StoredEmbedding"/>), when the encoder read it: grouping by meaning.</param>
internal sealed record RaisedAlert(string Topic, string Text, double Confidence, DateTime At, AlertSubject? Subject = null, byte[]? Embedding = null);

/// <summary>
/// An open feedback group an alert may join, as its store holds it. <see cref="Paged"/>: it has a PagerDuty delivery
/// already, so a later alert adds to that incident instead of paging again.
/// </summary>
internal sealed record OpenAlertGroup(long Id, string Topic, long Fingerprint, string Severity, int Count, DateTime FirstAt, bool Paged);

/// <summary>
/// An alert group that instances sharing a Redis agree on. <see cref="First"/>: this alert opened it, so this
/// instance sends the first message; otherwise another instance did and this one only adds to the summary.
/// <see cref="Count"/> is the group's size across instances, this alert included.
/// </summary>
internal sealed record SharedGroup(string Key, bool First, DateTime FirstAt, int Count)
{
    /// <summary>What the group's row carries in alert_groups.dedup_key, so one store holds one row per shared group.</summary>
    public string DedupKey => "shared:" + Key;
}

/// <summary>
/// A group instances agreed on in Redis, with what this store holds of it: <see cref="Row"/>, its open row, or null when
/// it has no row here yet; <see cref="Resolved"/> when its row here was resolved already (its key cannot be used again).
/// </summary>
internal sealed record StoredSharedGroup(SharedGroup Group, OpenAlertGroup? Row, bool Resolved);

/// <summary>A delivery for a group's outbox: its kind (initial, summary), its channel and when it is due.</summary>
internal sealed record PlannedDelivery(string Kind, string Channel, DateTime Due);

/// <summary>What one alert does to the groups: it joins one or opens one, at <see cref="Severity"/>, queueing <see cref="Deliveries"/>.</summary>
internal abstract record AlertDecision(string Severity, IReadOnlyList<PlannedDelivery> Deliveries);

/// <summary>
/// The alert joins <see cref="Group"/>, given as it stands after the alert: its row takes the new count and severity,
/// and the alert's time as its last.
/// </summary>
internal sealed record AlertJoinsGroup(OpenAlertGroup Group, DateTime At, IReadOnlyList<PlannedDelivery> Deliveries)
    : AlertDecision(Group.Severity, Deliveries);

/// <summary>
/// The alert opens a group: the row to insert, with the shared group's <see cref="DedupKey"/> when instances agreed on
/// one, and <see cref="Summary"/>, the excerpt of the alert's text that lists it.
/// </summary>
internal sealed record AlertOpensGroup(
    string Topic,
    long Fingerprint,
    string Severity,
    int Count,
    DateTime FirstAt,
    DateTime At,
    string? DedupKey,
    string Summary,
    IReadOnlyList<PlannedDelivery> Deliveries) : AlertDecision(Severity, Deliveries)
{
    /// <summary>The group as its store holds it once the row has its id.</summary>
    public OpenAlertGroup Stored(long id) =>
        new(id, Topic, Fingerprint, Severity, Count, FirstAt, Deliveries.Any(d => d.Channel == AlertGrouping.PagerDuty));
}

/// <summary>
/// The alert decision, once for every store: which open group a new alert joins (same topic, first alert within the
/// window, the same complaint by meaning or by words) or that it opens one, how severe the alert and its group are, and
/// which deliveries that queues (the first message on every channel, one "+N similar" summary per channel at the end of
/// the window, a page when a group is critical), and what a spike or a resolution queues. It reads nothing and writes
/// nothing: a store reads what it asks for, and persists what it returns in the same transaction.
/// </summary>
internal sealed class AlertGrouping(AlertPolicy policy)
{
    public const string PagerDuty = "pagerduty";

    /// <summary>
    /// How many of a topic's open groups an alert is compared with, the newest by (first alert, id): a store holds or
    /// reads that many, so a burst of different complaints costs the same per alert whatever the window.
    /// </summary>
    public const int RecentGroups = 100;

    /// <summary>
    /// Puts a new group into a topic's recent groups, kept in (first alert, id) order and at most <see cref="RecentGroups"/>
    /// long: it is the newest id, so only an older first alert moves it back, and one older than all of a full list is
    /// left out. The group that made room (the oldest), when one did; <paramref name="inserted"/> says whether it went in.
    /// </summary>
    public static OpenAlertGroup? InsertRecent(List<OpenAlertGroup> groups, OpenAlertGroup group, out bool inserted)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(group);
        var at = groups.Count;
        while (at > 0 && groups[at - 1].FirstAt > group.FirstAt)
        {
            at--;
        }

        inserted = !(at == 0 && groups.Count == RecentGroups);
        if (!inserted)
        {
            return null;
        }

        groups.Insert(at, group);
        if (groups.Count <= RecentGroups)
        {
            return null;
        }

        var oldest = groups[0];
        groups.RemoveAt(0);
        return oldest;
    }

    /// <summary>The severity, grouping and routing rules the decisions follow.</summary>
    public AlertPolicy Policy => policy;

    /// <summary>How many pages may go out in an hour, and what happens to the others.</summary>
    public PagingBudget Budget { get; } = new(policy.Settings);

    /// <summary>The oldest first alert of a group that an alert raised at <paramref name="at"/> may still join.</summary>
    public DateTime JoinableSince(DateTime at) => at - policy.Window;

    /// <summary>
    /// Whether an alert is grouped among the store's own open groups: unless instances agreed on a group whose key this
    /// store can still use, that group then being the only one it may join.
    /// </summary>
    public static bool GroupsAlone(StoredSharedGroup? shared) => shared is null or { Resolved: true };

    /// <summary>
    /// Decides one alert. <paramref name="recent"/>: the open groups of its topic, oldest first by (first alert, id), as
    /// many as <see cref="RecentGroups"/>; needed only when <see cref="GroupsAlone"/> says so. With a usable
    /// <paramref name="shared"/> group, the alert joins its row, or opens it here; a group another instance opened is
    /// that instance's to announce, so this one queues only the summary.
    /// </summary>
    public AlertDecision Decide(RaisedAlert alert, StoredSharedGroup? shared, IReadOnlyList<OpenAlertGroup> recent)
    {
        var bounds = policy.BoundsFor(alert.Subject ?? AlertSubject.None);
        var severity = bounds.Clamp(policy.SeverityOf(alert.Text, alert.Topic, alert.Confidence));
        var fingerprint = policy.GroupingFingerprint(alert.Text, alert.Embedding);
        var agreed = GroupsAlone(shared) ? null : shared;
        var group = agreed is null ? FindGroup(alert, fingerprint, recent) : agreed.Row;
        return group is null ? Open(alert, fingerprint, severity, bounds, agreed?.Group) : Join(alert, group, severity, bounds, agreed?.Group);
    }

    /// <summary>A spike group is announced at once on every channel its severity goes to.</summary>
    public IReadOnlyList<PlannedDelivery> SpikeDeliveries(string severity, DateTime at) =>
        [.. policy.ChannelsFor(severity).Select(channel => new PlannedDelivery("initial", channel, at))];

    /// <summary>Resolving a group that paged resolves its PagerDuty incident too; other channels are not told.</summary>
    public static PlannedDelivery? ResolutionDelivery(bool paged, DateTime at) => paged ? new PlannedDelivery("resolve", PagerDuty, at) : null;

    /// <summary>The newest open group of the alert's topic that started within the window and is the same complaint.</summary>
    private OpenAlertGroup? FindGroup(RaisedAlert alert, long fingerprint, IReadOnlyList<OpenAlertGroup> recent)
    {
        var since = JoinableSince(alert.At);
        var oldest = Math.Max(0, recent.Count - RecentGroups);
        for (var i = recent.Count - 1; i >= oldest && recent[i].FirstAt >= since; i--)
        {
            var candidate = recent[i];
            if (candidate.Topic == alert.Topic && policy.SameComplaint(fingerprint, candidate.Fingerprint))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <remarks>
    /// A group's severity never falls: the higher of the group's and the alert's, raised by the group's new size. The
    /// summary goes where the first message went; a group that became critical pages now, unless it has paged already.
    /// The alert that opened a shared group announces it even when another instance's alert reached a shared store
    /// first and left only the summary.
    /// </remarks>
    private AlertJoinsGroup Join(RaisedAlert alert, OpenAlertGroup group, string severity, SeverityBounds bounds, SharedGroup? shared)
    {
        var size = Math.Max(group.Count + 1, shared?.Count ?? 0);
        var escalated = AlertPolicy.Max(group.Severity, bounds.Clamp(policy.Escalate(AlertPolicy.Max(group.Severity, severity), size)));
        var channels = policy.ChannelsFor(escalated);
        var deliveries = new List<PlannedDelivery>(channels.Count);
        foreach (var channel in channels)
        {
            deliveries.Add(shared is { First: true } || (channel == PagerDuty && !group.Paged)
                ? new PlannedDelivery("initial", channel, alert.At)
                : new PlannedDelivery("summary", channel, group.FirstAt + policy.Window));
        }

        var paged = group.Paged || channels.Contains(PagerDuty, StringComparer.Ordinal);
        return new AlertJoinsGroup(group with { Severity = escalated, Count = size, Paged = paged }, alert.At, deliveries);
    }

    /// <remarks>
    /// A shared group opened by another instance started at its first alert there and counts every alert since; this
    /// store's row gets the summary only.
    /// </remarks>
    private AlertOpensGroup Open(RaisedAlert alert, long fingerprint, string severity, SeverityBounds bounds, SharedGroup? shared)
    {
        var openedElsewhere = shared is { First: false };
        var firstAt = openedElsewhere ? shared!.FirstAt : alert.At;
        var size = shared?.Count ?? 1;
        var escalated = bounds.Clamp(policy.Escalate(severity, size));
        var channels = policy.ChannelsFor(escalated);
        var deliveries = new List<PlannedDelivery>(channels.Count);
        foreach (var channel in channels)
        {
            deliveries.Add(openedElsewhere
                ? new PlannedDelivery("summary", channel, firstAt + policy.Window)
                : new PlannedDelivery("initial", channel, alert.At));
        }

        return new AlertOpensGroup(alert.Topic, fingerprint, escalated, size, firstAt, alert.At, shared?.DedupKey, Excerpt(alert.Text), deliveries);
    }

    private static string Excerpt(string text) => text.Length <= 300 ? text : text[..297] + "...";
}
