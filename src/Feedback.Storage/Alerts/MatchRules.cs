using System.Text.Json;
using System.Text.Json.Serialization;

namespace Feedback.Storage.Alerts;

/// <summary>Who wrote a message and through which channel: what <c>match_rules</c> look at.</summary>
/// <param name="Metadata">The message's metadata as stored: a JSON object, or null.</param>
internal sealed record AlertSubject(string? Source, string? CustomerId, string? Metadata)
{
    public static AlertSubject None { get; } = new(null, null, null);
}

/// <summary>The lowest and highest level a message's alert may have, after the match rules that hold for it.</summary>
internal readonly record struct SeverityBounds(string Floor, string Ceiling)
{
    public static SeverityBounds Any => new("low", "critical");

    public string Clamp(string level) => AlertPolicy.Min(AlertPolicy.Max(level, Floor), Ceiling);
}

/// <summary>One entry of the rules file's <c>match_rules</c>, as written.</summary>
internal sealed class MatchRuleEntry
{
    [JsonPropertyName("if")]
    public Dictionary<string, JsonElement>? If { get; init; }

    [JsonPropertyName("at_least")]
    public string? AtLeast { get; init; }

    [JsonPropertyName("at_most")]
    public string? AtMost { get; init; }
}

/// <summary>
/// The rules file's <c>match_rules</c>, checked and compiled: each rule holds when all of its conditions do (<c>source</c>,
/// <c>customer_id</c> and <c>metadata.KEY</c>, each one value or a list of values, compared exactly), and then raises the
/// message's level to its <c>at_least</c> or caps it at its <c>at_most</c>. Rules apply in file order, so where two that
/// hold disagree the later one wins. The cap holds for the group the message joins as well: a group it joins is not
/// escalated past the cap by that message (it never falls below what it was).
/// </summary>
internal sealed class MatchRules
{
    private const string MetadataPrefix = "metadata.";

    private readonly Rule[] _rules;

    private MatchRules(Rule[] rules) => _rules = rules;

    public static MatchRules None { get; } = new([]);

    public int Count => _rules.Length;

    /// <summary>Checks every entry; a bad one throws, naming the rule by its position (1-based) and what is wrong with it.</summary>
    public static MatchRules From(IReadOnlyList<MatchRuleEntry> entries)
    {
        var rules = new Rule[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            rules[i] = Compile(entries[i], $"match_rules[{i + 1}]");
        }

        return new(rules);
    }

    /// <summary>The floor and ceiling the rules that hold for <paramref name="subject"/> set, in file order.</summary>
    public SeverityBounds BoundsFor(AlertSubject subject)
    {
        if (_rules.Length == 0)
        {
            return SeverityBounds.Any;
        }

        var bounds = SeverityBounds.Any;
        JsonElement? metadata = null;
        foreach (var rule in _rules)
        {
            if (!rule.Holds(subject, ref metadata))
            {
                continue;
            }

            // A later rule wins where it disagrees with an earlier one: raising the floor above the ceiling lifts the
            // ceiling with it, and lowering the ceiling below the floor takes the floor down.
            if (rule.AtLeast is { } least)
            {
                bounds = new(AlertPolicy.Max(bounds.Floor, least), AlertPolicy.Max(bounds.Ceiling, least));
            }

            if (rule.AtMost is { } most)
            {
                bounds = new(AlertPolicy.Min(bounds.Floor, most), AlertPolicy.Min(bounds.Ceiling, most));
            }
        }

        return bounds;
    }

    private static Rule Compile(MatchRuleEntry entry, string name)
    {
        if (entry.AtLeast is null && entry.AtMost is null)
        {
            throw new InvalidOperationException($"ALERT_RULES_FILE: {name} has neither \"at_least\" nor \"at_most\".");
        }

        foreach (var level in new[] { entry.AtLeast, entry.AtMost }.OfType<string>())
        {
            if (!AlertPolicy.Levels.Contains(level))
            {
                throw new InvalidOperationException($"ALERT_RULES_FILE: {name} names the unknown level '{level}' (use low, medium, high, critical).");
            }
        }

        if (entry is { AtLeast: { } low, AtMost: { } high } && AlertPolicy.Max(low, high) != high)
        {
            throw new InvalidOperationException($"ALERT_RULES_FILE: {name} has \"at_least\" {low} above \"at_most\" {high}.");
        }

        if (entry.If is null || entry.If.Count == 0)
        {
            throw new InvalidOperationException($"ALERT_RULES_FILE: {name} has no conditions in \"if\" (source, customer_id or metadata.KEY).");
        }

        var conditions = new List<Condition>(entry.If.Count);
        foreach (var (key, value) in entry.If)
        {
            var field = key switch
            {
                "source" => Field.Source,
                "customer_id" => Field.CustomerId,
                _ when key.StartsWith(MetadataPrefix, StringComparison.Ordinal) && key.Length > MetadataPrefix.Length => Field.Metadata,
                _ => throw new InvalidOperationException(
                    $"ALERT_RULES_FILE: {name} has the unknown condition \"{key}\" (use source, customer_id or metadata.KEY)."),
            };
            conditions.Add(new Condition(field, field == Field.Metadata ? key[MetadataPrefix.Length..] : null, Values(value, $"{name} \"{key}\"")));
        }

        return new Rule([.. conditions], entry.AtLeast, entry.AtMost);
    }

    /// <summary>One value or a non-empty list of them; numbers and true/false are compared as written.</summary>
    private static HashSet<string> Values(JsonElement value, string name)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                values.Add(Scalar(item) ?? throw new InvalidOperationException($"ALERT_RULES_FILE: {name} lists a value that is not a string, number or true/false."));
            }
        }
        else
        {
            values.Add(Scalar(value) ?? throw new InvalidOperationException($"ALERT_RULES_FILE: {name} must be a string, number, true/false or a list of them."));
        }

        return values.Count > 0 ? values : throw new InvalidOperationException($"ALERT_RULES_FILE: {name} lists no values.");
    }

    private static string? Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => null,
    };

    private enum Field
    {
        Source,
        CustomerId,
        Metadata,
    }

    private sealed record Condition(Field Field, string? MetadataKey, HashSet<string> Values);

    private sealed record Rule(Condition[] Conditions, string? AtLeast, string? AtMost)
    {
        /// <param name="metadata">The subject's metadata, parsed on the first condition that needs it.</param>
        public bool Holds(AlertSubject subject, ref JsonElement? metadata)
        {
            foreach (var condition in Conditions)
            {
                var actual = condition.Field switch
                {
                    Field.Source => subject.Source,
                    Field.CustomerId => subject.CustomerId,
                    _ => MetadataValue(subject, condition.MetadataKey!, ref metadata),
                };
                if (actual is null || !condition.Values.Contains(actual))
                {
                    return false;
                }
            }

            return true;
        }

        private static string? MetadataValue(AlertSubject subject, string key, ref JsonElement? metadata)
        {
            if (metadata is null)
            {
                metadata = default(JsonElement);
                if (!string.IsNullOrEmpty(subject.Metadata))
                {
                    try
                    {
                        using var document = JsonDocument.Parse(subject.Metadata);
                        metadata = document.RootElement.Clone();
                    }
                    catch (JsonException)
                    {
                        // Stored metadata is always an object the API checked; anything else simply matches no rule.
                    }
                }
            }

            return metadata.Value.ValueKind == JsonValueKind.Object && metadata.Value.TryGetProperty(key, out var value) ? Scalar(value) : null;
        }
    }
}
