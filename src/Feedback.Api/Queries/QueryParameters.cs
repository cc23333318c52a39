using System.Globalization;
using Feedback.Analysis;

namespace Feedback.Api.Queries;

/// <summary>Query-string values that several read routes accept, parsed once so they answer bad input alike.</summary>
internal static class QueryParameters
{
    /// <summary>
    /// An ISO 8601 time (UTC when it names no offset), or null when the parameter is absent. Years outside 1970–9998
    /// are refused: they are typing mistakes, and windows computed from them would overflow.
    /// </summary>
    public static DateTime? Time(IQueryCollection query, string name, Dictionary<string, string[]> errors)
    {
        if (query[name].ToString() is not { Length: > 0 } text)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            && value.UtcDateTime.Year is >= 1970 and <= 9998)
        {
            return value.UtcDateTime;
        }

        errors[name] = ["Must be an ISO 8601 date or time, e.g. 2026-11-24T10:30:00Z."];
        return null;
    }

    /// <summary>A sentiment's wire name, or null when the parameter is absent or empty (no filter).</summary>
    public static string? Sentiment(IQueryCollection query, Dictionary<string, string[]> errors)
    {
        var sentiment = query["sentiment"].ToString() is { Length: > 0 } s ? s : null;
        if (sentiment is not null && !WireNames.TryParseSentiment(sentiment, out _))
        {
            errors["sentiment"] = ["Must be positive, negative, neutral or mixed."];
        }

        return sentiment;
    }

    /// <summary>One of the configured topics, or null when the parameter is absent or empty (no filter).</summary>
    public static string? Topic(IQueryCollection query, Taxonomy taxonomy, Dictionary<string, string[]> errors)
    {
        var topic = query["topic"].ToString() is { Length: > 0 } t ? t : null;
        if (topic is not null && !taxonomy.TryParse(topic, out _))
        {
            errors["topic"] = [$"Must be one of {string.Join(", ", taxonomy.Topics)}."];
        }

        return topic;
    }
}
