using System.Numerics.Tensors;

namespace Feedback.Analysis.Themes;

/// <summary>A stored message as the themes need it: no text is kept after the labels are made.</summary>
public sealed record ThemeSource(long Id, DateTime CreatedAt, string Sentiment, string Topic, string Text);

/// <summary>One theme of a <see cref="ThemeSnapshot"/>, over the whole clustered horizon.</summary>
/// <param name="Id">Stable while its oldest message stays in it: "t" and that message's id.</param>
/// <param name="Label">Two to four key phrases (<see cref="KeyPhrases.Label"/>).</param>
/// <param name="Keywords">Up to eight key phrases, best first.</param>
public sealed record ThemeInfo(string Id, string Label, IReadOnlyList<string> Keywords);

/// <summary>A clustered message: which theme it is in (-1: none) and its cosine with the theme's centroid.</summary>
public readonly record struct ThemeMember(long Id, DateTime CreatedAt, string Sentiment, string Topic, int Theme, float Similarity);

/// <summary>A theme as seen in one window: its members there, counts, growth against the window before, examples.</summary>
public sealed record ThemeView(
    ThemeInfo Theme,
    int Size,
    IReadOnlyDictionary<string, int> Sentiment,
    IReadOnlyDictionary<string, int> Topic,
    DateTime FirstAt,
    DateTime LastAt,
    int PreviousSize,
    double? Growth,
    IReadOnlyList<long> ExampleIds,
    IReadOnlyList<long> MemberIds,
    ThemeTrend? Trend = null);

/// <summary>
/// A theme's messages in the window per bucket (an hour or a day, on UTC boundaries): <see cref="Counts"/>[i] is the
/// bucket starting at <see cref="Start"/> + i × <see cref="Bucket"/>, the first and last clipped to the window.
/// </summary>
public sealed record ThemeTrend(DateTime Start, TimeSpan Bucket, IReadOnlyList<int> Counts);

/// <summary>
/// A theme's messages of some sentiments hour by hour up to a moment (what the emerging-theme alerts test), when its
/// first message came, and the ids of those messages nearest its centroid (its most typical complaints), best first.
/// </summary>
/// <param name="PerHour">[i] counts the hour ending <c>PerHour.Count - 1 - i</c> hours before the moment: the last is the last hour.</param>
/// <param name="Topics">Those messages per topic, over all the hours.</param>
public sealed record ThemeActivity(ThemeInfo Theme, DateTime FirstAt, IReadOnlyList<int> PerHour, IReadOnlyList<long> ExampleIds, IReadOnlyDictionary<string, int> Topics);

/// <summary>
/// Which of a snapshot's messages a view counts: a window of time and optional labels. With a <see cref="Bucket"/>, each
/// theme's view carries its <see cref="ThemeTrend"/> (none past <see cref="ThemeSnapshot.MaxTrendBuckets"/> buckets).
/// </summary>
public sealed record ThemeWindow(DateTime From, DateTime To, string? Sentiment = null, string? Topic = null, TimeSpan? Bucket = null)
{
    public bool Matches(in ThemeMember member, DateTime from, DateTime to) =>
        member.CreatedAt >= from && member.CreatedAt < to
        && (Sentiment is null || string.Equals(member.Sentiment, Sentiment, StringComparison.Ordinal))
        && (Topic is null || string.Equals(member.Topic, Topic, StringComparison.Ordinal));
}

/// <summary>
/// The themes of the stored messages of a horizon, as the last full clustering found them, plus the messages that came
/// since: each joins the theme its vector is closest to on average (<see cref="Join"/>), or none. Holds ids, times,
/// labels, the themes' centroids and key phrases; never a text or a message's vector. Thread-safe.
/// </summary>
public sealed class ThemeSnapshot
{
    public const int Examples = 5;

    /// <summary>The most buckets a trend has: a window longer than that many hours or days shows none, rather than a huge series.</summary>
    public const int MaxTrendBuckets = 1000;

    private readonly Lock _gate = new();
    private readonly Dictionary<long, ThemeMember> _members;
    private readonly float[] _centroids;
    private readonly int _dimensions;
    private readonly float _joinThreshold;

    private ThemeSnapshot(IReadOnlyList<ThemeInfo> themes, Dictionary<long, ThemeMember> members, float[] centroids, int dimensions, float joinThreshold, DateTime computedAt, int clustered)
    {
        Themes = themes;
        _members = members;
        _centroids = centroids;
        _dimensions = dimensions;
        _joinThreshold = joinThreshold;
        ComputedAt = computedAt;
        Clustered = clustered;
    }

    /// <summary>A snapshot with no messages yet (before the first clustering).</summary>
    public static ThemeSnapshot Empty { get; } = new([], [], [], 1, 1, DateTime.MinValue, 0);

    public IReadOnlyList<ThemeInfo> Themes { get; }

    /// <summary>When the full clustering behind it ran.</summary>
    public DateTime ComputedAt { get; }

    /// <summary>Messages that full clustering read (those joined since not counted).</summary>
    public int Clustered { get; }

    /// <summary>The highest message id the snapshot holds (clustered or joined); 0 with none.</summary>
    public long HighestId
    {
        get
        {
            lock (_gate)
            {
                return _members.Count == 0 ? 0 : _members.Keys.Max();
            }
        }
    }

    public bool Contains(long id)
    {
        lock (_gate)
        {
            return _members.ContainsKey(id);
        }
    }

    /// <summary>
    /// Clusters <paramref name="sources"/>, whose unit vectors are the rows of <paramref name="vectors"/>, and labels the
    /// themes from their texts. Deterministic: the same messages give the same snapshot in any order.
    /// </summary>
    public static ThemeSnapshot Build(
        IReadOnlyList<ThemeSource> sources, float[] vectors, int dimensions, ThemeThresholds thresholds, DateTime computedAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(thresholds);
        var clusters = ThemeClustering.Cluster([.. sources.Select(s => s.Id)], vectors, dimensions, thresholds, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();

        var themeOf = new int[sources.Count];
        Array.Fill(themeOf, -1);
        for (var t = 0; t < clusters.Themes.Count; t++)
        {
            foreach (var member in clusters.Themes[t].Members)
            {
                themeOf[member] = t;
            }
        }

        var phrases = KeyPhrases.Extract(
            [.. clusters.Themes.Select(t => (IReadOnlyList<string>)[.. t.Members.Select(m => sources[m].Text)])],
            [.. Enumerable.Range(0, sources.Count).Where(i => themeOf[i] < 0).Select(i => sources[i].Text)]);
        var themes = new List<ThemeInfo>(clusters.Themes.Count);
        var centroids = new float[clusters.Themes.Count * dimensions];
        for (var t = 0; t < clusters.Themes.Count; t++)
        {
            var oldest = clusters.Themes[t].Members.Min(m => sources[m].Id);
            themes.Add(new ThemeInfo("t" + oldest.ToString(System.Globalization.CultureInfo.InvariantCulture), KeyPhrases.Label(phrases[t]), [.. phrases[t].Select(p => p.Phrase)]));
            clusters.Themes[t].Centroid.CopyTo(centroids, t * dimensions);
        }

        var members = new Dictionary<long, ThemeMember>(sources.Count);
        for (var i = 0; i < sources.Count; i++)
        {
            var t = themeOf[i];
            var similarity = t < 0 ? 0 : TensorPrimitives.Dot(vectors.AsSpan(i * dimensions, dimensions), centroids.AsSpan(t * dimensions, dimensions));
            var s = sources[i];
            members[s.Id] = new ThemeMember(s.Id, s.CreatedAt, s.Sentiment, s.Topic, t, similarity);
        }

        return new ThemeSnapshot(themes, members, centroids, dimensions, thresholds.Join, computedAt, sources.Count);
    }

    /// <summary>
    /// A message stored after the clustering: it joins the theme whose members it is closest to on average, when at
    /// least the join threshold, else it stays outside every theme. Returns the theme's index, or -1.
    /// </summary>
    public int Join(long id, DateTime createdAt, string sentiment, string topic, ReadOnlySpan<float> unitVector)
    {
        var (best, similarity) = Themes.Count == 0 || unitVector.Length != _dimensions
            ? (-1, 0f)
            : ThemeClustering.Nearest(unitVector, _centroids, _dimensions, Themes.Count);
        var theme = best >= 0 && similarity >= _joinThreshold ? best : -1;
        lock (_gate)
        {
            _members[id] = new ThemeMember(id, createdAt, sentiment, topic, theme, theme < 0 ? 0 : similarity);
        }

        return theme;
    }

    /// <summary>
    /// The themes with at least <paramref name="minSize"/> members in the window, largest first (then by id), and the
    /// share of the window's clustered messages that are in no theme.
    /// </summary>
    public (IReadOnlyList<ThemeView> Themes, double OutlierShare, int Messages) View(ThemeWindow window, int minSize)
    {
        ArgumentNullException.ThrowIfNull(window);
        var previousFrom = window.From - (window.To - window.From);
        var current = new List<ThemeMember>[Themes.Count];
        var previous = new int[Themes.Count];
        int messages = 0, outliers = 0;
        lock (_gate)
        {
            foreach (var member in _members.Values)
            {
                if (window.Matches(member, window.From, window.To))
                {
                    messages++;
                    if (member.Theme < 0)
                    {
                        outliers++;
                    }
                    else
                    {
                        (current[member.Theme] ??= []).Add(member);
                    }
                }
                else if (member.Theme >= 0 && window.Matches(member, previousFrom, window.From))
                {
                    previous[member.Theme]++;
                }
            }
        }

        var views = new List<ThemeView>();
        for (var t = 0; t < Themes.Count; t++)
        {
            if (current[t] is { } members && members.Count >= minSize)
            {
                views.Add(ViewOf(t, members, previous[t], window));
            }
        }

        return ([.. views.OrderByDescending(v => v.Size).ThenBy(v => v.Theme.Id, StringComparer.Ordinal)], messages == 0 ? 0 : outliers / (double)messages, messages);
    }

    /// <summary>One theme in the window (even below any minimum size); null for an id the snapshot does not have.</summary>
    public ThemeView? ViewOne(string id, ThemeWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        var t = Themes.ToList().FindIndex(theme => string.Equals(theme.Id, id, StringComparison.Ordinal));
        if (t < 0)
        {
            return null;
        }

        var previousFrom = window.From - (window.To - window.From);
        var members = new List<ThemeMember>();
        var previous = 0;
        lock (_gate)
        {
            foreach (var member in _members.Values.Where(m => m.Theme == t))
            {
                if (window.Matches(member, window.From, window.To))
                {
                    members.Add(member);
                }
                else if (window.Matches(member, previousFrom, window.From))
                {
                    previous++;
                }
            }
        }

        return ViewOf(t, members, previous, window);
    }

    /// <summary>
    /// Each theme's messages of <paramref name="sentiments"/> in the <paramref name="hours"/> hours up to
    /// <paramref name="now"/>, hour by hour, with up to <paramref name="examples"/> of them nearest its centroid; themes
    /// with none there are left out.
    /// </summary>
    public IReadOnlyList<ThemeActivity> Activity(DateTime now, int hours, IReadOnlySet<string> sentiments, int examples)
    {
        ArgumentNullException.ThrowIfNull(sentiments);
        ArgumentOutOfRangeException.ThrowIfLessThan(hours, 1);
        var from = now.AddHours(-hours);
        var firstAt = new DateTime[Themes.Count];
        Array.Fill(firstAt, DateTime.MaxValue);
        var matching = new List<ThemeMember>[Themes.Count];
        lock (_gate)
        {
            foreach (var member in _members.Values)
            {
                if (member.Theme < 0)
                {
                    continue;
                }

                if (member.CreatedAt < firstAt[member.Theme])
                {
                    firstAt[member.Theme] = member.CreatedAt;
                }

                if (member.CreatedAt >= from && member.CreatedAt < now && sentiments.Contains(member.Sentiment))
                {
                    (matching[member.Theme] ??= []).Add(member);
                }
            }
        }

        var activity = new List<ThemeActivity>();
        for (var t = 0; t < Themes.Count; t++)
        {
            if (matching[t] is not { } members)
            {
                continue;
            }

            var perHour = new int[hours];
            var topics = new SortedDictionary<string, int>(StringComparer.Ordinal);
            foreach (var member in members)
            {
                perHour[Math.Min(hours - 1, (int)((member.CreatedAt - from).Ticks / TimeSpan.TicksPerHour))]++;
                topics[member.Topic] = topics.GetValueOrDefault(member.Topic) + 1;
            }

            var nearest = members.OrderByDescending(m => m.Similarity).ThenByDescending(m => m.Id).Take(examples).Select(m => m.Id).ToList();
            activity.Add(new ThemeActivity(Themes[t], firstAt[t], perHour, nearest, topics));
        }

        return activity;
    }

    private static ThemeTrend? TrendOf(List<ThemeMember> members, ThemeWindow window)
    {
        if (window.Bucket is not { } bucket || bucket <= TimeSpan.Zero)
        {
            return null;
        }

        var start = new DateTime(window.From.Ticks - (window.From.Ticks % bucket.Ticks), DateTimeKind.Utc);
        var buckets = (window.To - start).Ticks / bucket.Ticks + ((window.To - start).Ticks % bucket.Ticks == 0 ? 0 : 1);
        if (buckets > MaxTrendBuckets)
        {
            return null;
        }

        var counts = new int[buckets];
        foreach (var member in members)
        {
            counts[(member.CreatedAt - start).Ticks / bucket.Ticks]++;
        }

        return new ThemeTrend(start, bucket, counts);
    }

    private ThemeView ViewOf(int t, List<ThemeMember> members, int previous, ThemeWindow window)
    {
        var sentiment = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var topic = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var member in members)
        {
            sentiment[member.Sentiment] = sentiment.GetValueOrDefault(member.Sentiment) + 1;
            topic[member.Topic] = topic.GetValueOrDefault(member.Topic) + 1;
        }

        var examples = members.OrderByDescending(m => m.Similarity).ThenByDescending(m => m.Id).Take(Examples).Select(m => m.Id).ToList();
        return new ThemeView(
            Themes[t],
            members.Count,
            sentiment,
            topic,
            members.Count == 0 ? default : members.Min(m => m.CreatedAt),
            members.Count == 0 ? default : members.Max(m => m.CreatedAt),
            previous,
            previous == 0 ? null : Math.Round((members.Count - previous) / (double)previous, 4),
            examples,
            [.. members.Select(m => m.Id).OrderDescending()],
            TrendOf(members, window));
    }
}
