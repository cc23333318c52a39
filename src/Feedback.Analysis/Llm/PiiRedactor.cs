using System.Text.RegularExpressions;

namespace Feedback.Analysis.Llm;

/// <summary>
/// Replaces e-mail addresses, card numbers and phone numbers before a text leaves the machine. The labels
/// do not depend on them, and a provider's logs should not hold them.
/// </summary>
public static partial class PiiRedactor
{
    public static string Redact(string text)
    {
        var withoutEmail = Email().Replace(text, "[email]");
        var withoutCards = CardCandidate().Replace(withoutEmail, m => PassesLuhn(m.Value) ? "[card]" : m.Value);
        return Phone().Replace(withoutCards, m => m.Value.Count(char.IsDigit) is >= 7 and <= 15 ? "[phone]" : m.Value);
    }

    private static bool PassesLuhn(string candidate)
    {
        var digits = candidate.Where(char.IsDigit).Select(c => c - '0').ToArray();
        if (digits.Length is < 13 or > 19)
        {
            return false;
        }

        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i];
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
        }

        return sum % 10 == 0;
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex Email();

    [GeneratedRegex(@"\b(?:\d[ \-]?){12,18}\d\b", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex CardCandidate();

    [GeneratedRegex(@"(?<!\w)\+?\(?\d{1,4}\)?(?:[ .\-]?\(?\d{2,4}\)?){2,5}(?!\w)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 200)]
    private static partial Regex Phone();
}
