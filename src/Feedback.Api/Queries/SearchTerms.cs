using System.Globalization;
using System.Text;

namespace Feedback.Api.Queries;

/// <summary>
/// What <c>?q=</c> searches for: its words, each matched whole or, written with a trailing <c>*</c>, as a prefix; every
/// word must occur. A word is a run of letters and digits, compared without case and without accents, which is how
/// both indexes cut and fold the stored text (SQLite FTS5's unicode61 tokenizer with remove_diacritics; PostgreSQL's
/// 'simple' configuration over unaccented text with punctuation blanked). Everything else in the query (quotes,
/// operators, brackets) separates words, so no search syntax reaches either index from a user.
/// </summary>
internal sealed record SearchTerms(IReadOnlyList<SearchTerm> Terms)
{
    /// <summary>The longest <c>q</c> accepted: a search is a few words, and a long one only costs the index more.</summary>
    public const int MaxLength = 200;

    /// <summary>What the API documents <c>q</c> to match; the OpenAPI text and the 400 answers say the same.</summary>
    public static readonly string Rule =
        "Words the message contains, in any case and with or without accents (refund matches \"Refund!\"); every word " +
        "must occur; a word ending in * matches as a prefix (refu* matches refund and refunded). Punctuation and " +
        $"operators separate words. At most {MaxLength} characters.";

    /// <summary>The words of <paramref name="query"/>; none when it holds no letter or digit.</summary>
    public static SearchTerms Parse(string query)
    {
        var terms = new List<SearchTerm>();
        var word = new StringBuilder();
        for (var i = 0; i <= query.Length; i++)
        {
            var c = i < query.Length ? query[i] : ' ';
            if (IsWordCharacter(c))
            {
                word.Append(c);
                continue;
            }

            if (word.Length > 0)
            {
                var folded = Fold(word.ToString());
                if (folded.Length > 0)
                {
                    terms.Add(new SearchTerm(folded, Prefix: c == '*'));
                }

                word.Clear();
            }
        }

        return new SearchTerms(terms.Distinct().ToList());
    }

    /// <summary>The words as an FTS5 query: each one quoted (a string, never an operator), a prefix with * after it.</summary>
    public string ToFts5() => string.Join(' ', Terms.Select(t => t.Prefix ? $"\"{t.Word}\"*" : $"\"{t.Word}\""));

    /// <summary>The words as a PostgreSQL tsquery: each one quoted as a lexeme, a prefix marked :*, all joined by &amp;.</summary>
    public string ToTsQuery() => string.Join(" & ", Terms.Select(t => t.Prefix ? $"'{t.Word}':*" : $"'{t.Word}'"));

    /// <summary>Letters, digits and the marks that accents are made of (a decomposed é is e plus a mark), as unicode61 counts them.</summary>
    private static bool IsWordCharacter(char c) => char.GetUnicodeCategory(c) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.PrivateUse => true,
        _ => false,
    };

    /// <summary>Lower case without accents: the form both indexes store a word in.</summary>
    private static string Fold(string word)
    {
        var decomposed = word.Normalize(NormalizationForm.FormD);
        var kept = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark))
            {
                kept.Append(c);
            }
        }

        return kept.ToString().Normalize(NormalizationForm.FormC).ToLowerInvariant();
    }
}

/// <summary>One word of a search, folded; <see cref="Prefix"/> when it matches every word it begins.</summary>
internal sealed record SearchTerm(string Word, bool Prefix);
