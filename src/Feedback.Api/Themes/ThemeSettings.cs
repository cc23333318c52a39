using Feedback.Analysis.Themes;

namespace Feedback.Api.Themes;

/// <summary>
/// How the themes are kept (THEMES_*): which stored messages are clustered, how often, and for how long at most. The
/// clustering runs in the background; a request only reads its last result.
/// </summary>
internal sealed class ThemeSettings
{
    /// <summary>false: no clustering and GET /themes answers 503.</summary>
    [ConfigurationKeyName("THEMES_ENABLED")]
    public bool Enabled { get; set; } = true;

    /// <summary>Days of stored messages clustered, back from now; older windows see only what is left of them.</summary>
    [ConfigurationKeyName("THEMES_HORIZON_DAYS")]
    public int HorizonDays { get; set; } = 90;

    /// <summary>The newest this many messages of the horizon at most: what bounds the clustering's memory and time.</summary>
    [ConfigurationKeyName("THEMES_MAX_MESSAGES")]
    public int MaxMessages { get; set; } = 100_000;

    /// <summary>Seconds between full clusterings (only when messages came since); new messages join the nearest theme in between.</summary>
    [ConfigurationKeyName("THEMES_REFRESH_SECONDS")]
    public int RefreshSeconds { get; set; } = 600;

    /// <summary>Seconds a full clustering may take; past it, it is stopped and the last themes stay.</summary>
    [ConfigurationKeyName("THEMES_TIME_BUDGET_SECONDS")]
    public int TimeBudgetSeconds { get; set; } = 300;

    /// <summary>The average cosine between two groups' messages at which they become one theme.</summary>
    [ConfigurationKeyName("THEMES_MERGE_SIMILARITY")]
    public float MergeSimilarity { get; set; } = new ThemeThresholds().Merge;

    /// <summary>The average cosine with a theme's messages at which a message left over, or new, joins it.</summary>
    [ConfigurationKeyName("THEMES_JOIN_SIMILARITY")]
    public float JoinSimilarity { get; set; } = new ThemeThresholds().Join;

    /// <summary>
    /// A theme first seen within 24 hours raises an alert once it has this many negative (or mixed) messages in them;
    /// 0 turns that test off (a theme's hour far above its own baseline still alerts).
    /// </summary>
    [ConfigurationKeyName("THEME_ALERT_MIN_NEGATIVE")]
    public int AlertMinNegative { get; set; } = 10;

    /// <summary>
    /// <c>llm</c>: with an LLM configured, each theme also gets a short title asked of it (<see cref="ThemeTitles"/>);
    /// empty or <c>keywords</c>: the key-phrase label alone.
    /// </summary>
    [ConfigurationKeyName("THEME_TITLES")]
    public string Titles { get; set; } = "";

    public bool LlmTitles => string.Equals(Titles.Trim(), "llm", StringComparison.OrdinalIgnoreCase);

    public ThemeThresholds Thresholds => new ThemeThresholds() with { Merge = MergeSimilarity, Join = JoinSimilarity };

    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        if (HorizonDays is < 1 or > 3650)
        {
            failures.Add($"THEMES_HORIZON_DAYS must be between 1 and 3650 (got {HorizonDays}).");
        }

        if (MaxMessages is < 10 or > 1_000_000)
        {
            failures.Add($"THEMES_MAX_MESSAGES must be between 10 and 1000000 (got {MaxMessages}).");
        }

        if (RefreshSeconds is < 1 or > 86_400)
        {
            failures.Add($"THEMES_REFRESH_SECONDS must be between 1 and 86400 (got {RefreshSeconds}).");
        }

        if (TimeBudgetSeconds is < 1 or > 3600)
        {
            failures.Add($"THEMES_TIME_BUDGET_SECONDS must be between 1 and 3600 (got {TimeBudgetSeconds}).");
        }

        if (MergeSimilarity is <= 0 or >= 1 || float.IsNaN(MergeSimilarity))
        {
            failures.Add($"THEMES_MERGE_SIMILARITY must be above 0 and below 1 (got {MergeSimilarity}).");
        }

        if (JoinSimilarity is <= 0 or >= 1 || float.IsNaN(JoinSimilarity))
        {
            failures.Add($"THEMES_JOIN_SIMILARITY must be above 0 and below 1 (got {JoinSimilarity}).");
        }

        if (!LlmTitles && Titles.Trim().Length > 0 && !string.Equals(Titles.Trim(), "keywords", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"THEME_TITLES must be llm or keywords (got {Titles}).");
        }

        if (AlertMinNegative is < 0 or > 1_000_000)
        {
            failures.Add($"THEME_ALERT_MIN_NEGATIVE must be between 0 and 1000000 (got {AlertMinNegative}).");
        }

        return failures;
    }
}
