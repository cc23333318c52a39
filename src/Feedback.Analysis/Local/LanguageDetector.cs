namespace Feedback.Analysis.Local;

/// <summary>
/// Guesses the language from the writing system, then from counts of frequent function words.
/// Cheap and deterministic; good enough to tell that the English lexicon does not apply.
/// </summary>
internal sealed class LanguageDetector
{
    public const string Undetermined = "und";
    public const string English = "en";

    private static readonly Lazy<LanguageDetector> Embedded = new(LoadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string[] languages;
    private readonly WordTable<int> membership;

    /// <param name="stopWords">Function words per ISO 639-1 code; the first language wins ties.</param>
    public LanguageDetector(IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> stopWords)
    {
        if (stopWords.Count > 31)
        {
            throw new ArgumentException("At most 31 languages fit the membership bit mask.", nameof(stopWords));
        }

        languages = stopWords.Select(p => p.Key).ToArray();
        var masks = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var l = 0; l < stopWords.Count; l++)
        {
            foreach (var word in stopWords[l].Value)
            {
                var key = string.Concat(PhraseTable<int>.Normalise(word));
                masks[key] = masks.GetValueOrDefault(key) | (1 << l);
            }
        }

        membership = new WordTable<int>(masks);
    }

    public static LanguageDetector Default => Embedded.Value;

    public string Detect(TokenizedText text)
    {
        if (ScriptLanguage(text.Source) is { } byScript)
        {
            return byScript;
        }

        Span<int> hits = stackalloc int[languages.Length];
        for (var i = 0; i < text.Count; i++)
        {
            if (membership.TryGetValue(text[i].KeyHash, text.Key(i), out var mask))
            {
                for (var bits = (uint)mask; bits != 0; bits &= bits - 1)
                {
                    hits[System.Numerics.BitOperations.TrailingZeroCount(bits)]++;
                }
            }
        }

        var best = 0;
        for (var l = 1; l < languages.Length; l++)
        {
            if (hits[l] > hits[best])
            {
                best = l;
            }
        }

        // One shared little word ("de", "no") is not evidence of a language.
        return hits[best] switch
        {
            0 => Undetermined,
            1 when best != 0 => Undetermined,
            _ => languages[best],
        };
    }

    /// <summary>Languages told apart by their script alone; null for Latin script (or no letters).</summary>
    private static string? ScriptLanguage(string text)
    {
        // Most text is ASCII, which is Latin or no letter at all: one vectorised check settles it.
        if (System.Text.Ascii.IsValid(text))
        {
            return null;
        }

        int letters = 0, cyrillic = 0, greek = 0, arabic = 0, hebrew = 0, han = 0, kana = 0, hangul = 0, thai = 0, devanagari = 0;
        foreach (var c in text)
        {
            if (char.IsAscii(c))
            {
                letters += char.IsAsciiLetter(c) ? 1 : 0;
                continue;
            }

            if (!char.IsLetter(c))
            {
                continue;
            }

            letters++;
            switch (c)
            {
                case >= '\u0400' and <= '\u04FF': cyrillic++; break;
                case >= '\u0370' and <= '\u03FF': greek++; break;
                case >= '\u0600' and <= '\u06FF': arabic++; break;
                case >= '\u0590' and <= '\u05FF': hebrew++; break;
                case >= '\u3040' and <= '\u30FF': kana++; break;
                case >= '\u4E00' and <= '\u9FFF': han++; break;
                case >= '\uAC00' and <= '\uD7AF': hangul++; break;
                case >= '\u0E00' and <= '\u0E7F': thai++; break;
                case >= '\u0900' and <= '\u097F': devanagari++; break;
            }
        }

        var nonLatin = cyrillic + greek + arabic + hebrew + han + kana + hangul + thai + devanagari;
        if (letters == 0 || nonLatin * 2 < letters)
        {
            return null;
        }

        return Max((kana, "ja"), (han, "zh"), (hangul, "ko"), (cyrillic, "ru"), (greek, "el"), (arabic, "ar"), (hebrew, "he"), (thai, "th"), (devanagari, "hi"));
    }

    private static string Max(params ReadOnlySpan<(int Count, string Code)> candidates)
    {
        var best = candidates[0];
        foreach (var candidate in candidates)
        {
            // Any kana makes CJK text Japanese even when kanji outnumber it.
            if (candidate.Count > best.Count && !(best.Code == "ja" && best.Count > 0))
            {
                best = candidate;
            }
        }

        return best.Code;
    }

    private static LanguageDetector LoadEmbedded()
    {
        using var json = EmbeddedData.Json("stopwords.json");
        var lists = json.RootElement.EnumerateObject()
            .Select(p => new KeyValuePair<string, IReadOnlyList<string>>(p.Name, p.Value.EnumerateArray().Select(w => w.GetString()!).ToArray()))
            .ToList();
        var englishFirst = lists.OrderBy(p => p.Key == English ? 0 : 1).ToList();
        return new LanguageDetector(englishFirst);
    }
}
