using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Feedback.Analysis;
using Feedback.Storage;

namespace Feedback.Storage.Alerts;

/// <summary>Where alerts go and how they are grouped; bound from settings at start.</summary>
internal sealed record AlertSettings(
    TimeSpan GroupWindow,
    int SimilarityBits,
    string? SlackWebhookUrl,
    string? WebhookUrl,
    string? WebhookSecret,
    string? PagerDutyUrl,
    string? PagerDutyRoutingKey,
    string? PublicUrl,
    TimeSpan SendInterval,
    TimeSpan FirstRetry,
    TimeSpan MaxRetry,
    TimeSpan PollInterval,
    int MaxAttempts = AlertOptions.DefaultMaxAttempts,
    bool RedactExcerpts = true,
    int PagesPerHour = 6,
    int? MeaningBits = 8);

/// <summary>
/// Severity, grouping and routing of alerts: which channels a group goes to, whether two alerts are the
/// same complaint (their meaning fingerprints within <see cref="AlertSettings.MeaningBits"/> bits, or the SimHash of
/// their normalised words within <see cref="AlertSettings.SimilarityBits"/> bits when either has no sentence vector or
/// grouping is by words), and how severe a message and a growing group are, by the rules file.
/// </summary>
internal sealed class AlertPolicy(AlertSettings settings, SeverityRules rules)
{
    public static readonly string[] Levels = ["low", "medium", "high", "critical"];

    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    private static readonly Vector256<int>[] ByteBits = ExpandBits();

    public AlertSettings Settings => settings;

    public TimeSpan Window => settings.GroupWindow;

    /// <summary>The channels a group of this severity is sent to; the log when no channel is configured.</summary>
    public IReadOnlyList<string> ChannelsFor(string severity)
    {
        var channels = new List<string>(3);
        if (!string.IsNullOrWhiteSpace(settings.SlackWebhookUrl))
        {
            channels.Add("slack");
        }

        if (!string.IsNullOrWhiteSpace(settings.WebhookUrl))
        {
            channels.Add("webhook");
        }

        if (severity == "critical" && PagerDutyConfigured)
        {
            channels.Add("pagerduty");
        }

        if (channels.Count == 0)
        {
            channels.Add("log");
        }

        return channels;
    }

    public bool PagerDutyConfigured => !string.IsNullOrWhiteSpace(settings.PagerDutyRoutingKey);

    public string SeverityOf(string text, string topic, double confidence) => rules.SeverityOf(text, topic, confidence);

    /// <summary>The floor and ceiling the rules file's <c>match_rules</c> set for a message from <paramref name="subject"/>.</summary>
    public SeverityBounds BoundsFor(AlertSubject subject) => rules.Matches.BoundsFor(subject);

    /// <summary>A group one level more severe at each size step (5 and 20 similar alerts by default).</summary>
    public string Escalate(string severity, int groupSize)
    {
        var level = Array.IndexOf(Levels, severity);
        level += rules.GroupSizeSteps.Count(step => groupSize >= step);
        return Levels[Math.Clamp(level, 0, Levels.Length - 1)];
    }

    public static string Max(string a, string b) => Array.IndexOf(Levels, a) >= Array.IndexOf(Levels, b) ? a : b;

    public static string Min(string a, string b) => Array.IndexOf(Levels, a) <= Array.IndexOf(Levels, b) ? a : b;

    /// <summary>
    /// Whether two grouping fingerprints (<see cref="GroupingFingerprint"/>) are the same complaint: of one kind (meaning
    /// or words), and within that kind's number of bits.
    /// </summary>
    public bool SameComplaint(long a, long b)
    {
        var meaning = MeaningFingerprint.IsMeaning(a);
        return meaning == MeaningFingerprint.IsMeaning(b) && BitOperations.PopCount((ulong)(a ^ b)) <= BitsFor(a);
    }

    /// <summary>How many bits two fingerprints of <paramref name="fingerprint"/>'s kind may differ in.</summary>
    public int BitsFor(long fingerprint) =>
        MeaningFingerprint.IsMeaning(fingerprint) ? settings.MeaningBits ?? settings.SimilarityBits : settings.SimilarityBits;

    /// <summary>
    /// What an alert is grouped by: its meaning (<see cref="MeaningFingerprint"/>) when it has a stored sentence vector
    /// and grouping is by meaning, else the SimHash of its words with the top bit cleared, which marks the kind.
    /// </summary>
    public long GroupingFingerprint(string text, byte[]? embedding) =>
        settings.MeaningBits is not null && embedding is not null && MeaningFingerprint.Of(embedding) is { } meaning
            ? meaning
            : Fingerprint(text) & ~MeaningFingerprint.Kind;

    /// <summary>
    /// SimHash over word unigrams and bigrams of the lower-cased text (digits dropped, so "report 3" and
    /// "report 4" match): near-duplicate texts get fingerprints a few bits apart. Words are letters and
    /// apostrophes; a bigram is two neighbouring words joined by a space. Fingerprints are stored with their
    /// groups, so this must give the same value for the same text in every version.
    /// </summary>
    public static long Fingerprint(string text)
    {
        // FNV-1a 64 (stable across processes and machines, unlike string.GetHashCode) of each word, and of the
        // bigram ending with it, computed as the characters go by rather than from built strings: this runs for
        // every alerting message inside the writer's commit. A bit of the SimHash is set when more features have it
        // set than not: when its count of ones is over half the features.
        Span<Vector256<int>> ones = stackalloc Vector256<int>[8];
        var features = 0;
        ulong word = 0, bigram = 0, previous = 0;
        bool inWord = false, hasPrevious = false;
        foreach (var c in text)
        {
            if (char.IsLetter(c) || c == '\'')
            {
                if (!inWord)
                {
                    inWord = true;
                    word = FnvOffset;
                    bigram = hasPrevious ? (previous ^ ' ') * FnvPrime : 0;
                }

                var lower = char.ToLowerInvariant(c);
                word = (word ^ lower) * FnvPrime;
                bigram = (bigram ^ lower) * FnvPrime;
            }
            else if (inWord)
            {
                features += EndWord(ones, word, bigram, hasPrevious);
                inWord = false;
                hasPrevious = true;
                previous = word;
            }
        }

        if (inWord)
        {
            features += EndWord(ones, word, bigram, hasPrevious);
        }

        ulong fingerprint = 0;
        for (var octet = 0; octet < 8; octet++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                if (2 * ones[octet][bit] > features)
                {
                    fingerprint |= 1UL << ((8 * octet) + bit);
                }
            }
        }

        return (long)fingerprint;
    }

    private static int EndWord(Span<Vector256<int>> ones, ulong word, ulong bigram, bool hasPrevious)
    {
        Add(ones, word);
        if (hasPrevious)
        {
            Add(ones, bigram);
            return 2;
        }

        return 1;
    }

    /// <summary>Counts the set bits of <paramref name="hash"/> per position, eight positions (one byte) per vector add.</summary>
    private static void Add(Span<Vector256<int>> ones, ulong hash)
    {
        for (var octet = 0; octet < 8; octet++)
        {
            ones[octet] += ByteBits[(int)(hash >> (8 * octet)) & 0xFF];
        }
    }

    /// <summary>For each byte value, its eight bits as eight lanes of 0 or 1, lowest bit first.</summary>
    private static Vector256<int>[] ExpandBits()
    {
        var table = new Vector256<int>[256];
        Span<int> lanes = stackalloc int[8];
        for (var value = 0; value < 256; value++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                lanes[bit] = (value >> bit) & 1;
            }

            table[value] = Vector256.Create<int>(lanes);
        }

        return table;
    }
}

/// <summary>The severity rules file (see alert-rules.json for the format and defaults).</summary>
internal sealed class SeverityRules
{
    [JsonPropertyName("topics")]
    public Dictionary<string, string> Topics { get; init; } = new(StringComparer.Ordinal);

    [JsonPropertyName("from_confidence")]
    public List<ConfidenceRule> FromConfidence { get; init; } = [];

    [JsonPropertyName("phrases")]
    public Dictionary<string, List<string>> Phrases { get; init; } = new(StringComparer.Ordinal);

    [JsonPropertyName("group_size_steps")]
    public List<int> GroupSizeSteps { get; init; } = [];

    /// <summary>Who-and-where rules as written; <see cref="Matches"/> holds them checked.</summary>
    [JsonPropertyName("match_rules")]
    public List<MatchRuleEntry> MatchRuleEntries { get; init; } = [];

    [JsonIgnore]
    public MatchRules Matches { get; private set; } = MatchRules.None;

    /// <summary>The shipped rules, or the file named by ALERT_RULES_FILE.</summary>
    /// <param name="taxonomy">
    /// The configured topics: one the rules do not name takes the highest level of the built-in topics it includes, so a
    /// renamed topic keeps its severity.
    /// </param>
    public static SeverityRules Load(string? path, Analysis.Taxonomy? taxonomy = null)
    {
        using var stream = string.IsNullOrWhiteSpace(path)
            ? typeof(SeverityRules).Assembly.GetManifestResourceStream("Feedback.Storage.alert-rules.json")!
            : File.OpenRead(path);
        var rules = JsonSerializer.Deserialize<SeverityRules>(stream)
            ?? throw new InvalidOperationException("ALERT_RULES_FILE is empty.");
        var unknown = rules.Topics.Values.Concat(rules.Phrases.Keys).Concat(rules.FromConfidence.Select(r => r.Level))
            .Where(level => !AlertPolicy.Levels.Contains(level)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException($"ALERT_RULES_FILE names unknown levels: {string.Join(", ", unknown)} (use low, medium, high, critical).");
        }

        rules.Matches = MatchRules.From(rules.MatchRuleEntries);
        foreach (var definition in taxonomy?.Definitions ?? [])
        {
            var inherited = definition.Includes.Select(t => rules.Topics.GetValueOrDefault(t.Name)).OfType<string>();
            if (!rules.Topics.ContainsKey(definition.Topic.Name) && inherited.Any())
            {
                rules.Topics[definition.Topic.Name] = inherited.Aggregate(AlertPolicy.Max);
            }
        }

        return rules;
    }

    public string SeverityOf(string text, string topic, double confidence)
    {
        var level = Topics.GetValueOrDefault(topic, "low");
        foreach (var rule in FromConfidence)
        {
            if (confidence >= rule.AtLeast)
            {
                level = AlertPolicy.Max(level, rule.Level);
            }
        }

        // The text lower-cased into a buffer of its own (every alert runs this), the same mapping as ToLowerInvariant.
        char[]? rented = null;
        var lower = text.Length <= 512 ? stackalloc char[text.Length] : (rented = ArrayPool<char>.Shared.Rent(text.Length)).AsSpan(0, text.Length);
        text.AsSpan().ToLowerInvariant(lower);
        foreach (var (phraseLevel, phrases) in Phrases)
        {
            foreach (var phrase in phrases)
            {
                if (lower.Contains(phrase, StringComparison.Ordinal))
                {
                    level = AlertPolicy.Max(level, phraseLevel);
                    break;
                }
            }
        }

        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return level;
    }

    internal sealed record ConfidenceRule(
        [property: JsonPropertyName("at_least")] double AtLeast,
        [property: JsonPropertyName("level")] string Level);
}
