using System.Globalization;

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
}
