namespace Feedback.Analysis.Local;

/// <summary>
/// Multi-word phrases matched on token keys (lower case, apostrophes removed, so "can't log in" also
/// matches "cant log in"). A trailing '*' on the last word matches any word with that prefix
/// ("crash*" covers crash, crashes, crashed, crashing).
/// </summary>
internal sealed class PhraseTable<T>
{
    private readonly Dictionary<string, Entry[]> byFirstWord;
    private readonly Dictionary<string, Entry[]>.AlternateLookup<ReadOnlySpan<char>> firstWordLookup;
    private readonly Dictionary<string, Entry> prefixes;
    private readonly Dictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> prefixLookup;
    private readonly int shortestPrefix;

    public PhraseTable(IEnumerable<KeyValuePair<string, T>> phrases)
    {
        var grouped = new Dictionary<string, List<Entry>>(StringComparer.Ordinal);
        prefixes = new Dictionary<string, Entry>(StringComparer.Ordinal);
        shortestPrefix = int.MaxValue;
        foreach (var (text, value) in phrases)
        {
            var words = Normalise(text);
            if (words.Length == 0)
            {
                throw new InvalidDataException($"Empty phrase '{text}'.");
            }

            var isPrefix = words[^1].EndsWith('*');
            if (isPrefix)
            {
                words[^1] = words[^1][..^1];
            }

            if (words.Take(words.Length - 1).Any(w => w.Contains('*', StringComparison.Ordinal)))
            {
                throw new InvalidDataException($"Phrase '{text}': only the last word may end with '*'.");
            }

            var entry = new Entry(text, words, isPrefix, value);
            if (isPrefix && words.Length == 1)
            {
                if (!prefixes.TryAdd(words[0], entry))
                {
                    throw new InvalidDataException($"Phrase '{text}' is listed twice.");
                }

                shortestPrefix = Math.Min(shortestPrefix, words[0].Length);
                continue;
            }

            if (!grouped.TryGetValue(words[0], out var list))
            {
                grouped[words[0]] = list = [];
            }

            if (list.Any(e => e.IsPrefix == isPrefix && e.Words.SequenceEqual(words, StringComparer.Ordinal)))
            {
                throw new InvalidDataException($"Phrase '{text}' is listed twice.");
            }

            list.Add(entry);
        }

        // Longest first, so "keeps crashing" wins over "crashing" and matching is greedy.
        byFirstWord = grouped.ToDictionary(
            g => g.Key,
            g => g.Value.OrderByDescending(e => e.Words.Length).ThenBy(e => e.IsPrefix).ToArray(),
            StringComparer.Ordinal);
        firstWordLookup = byFirstWord.GetAlternateLookup<ReadOnlySpan<char>>();
        prefixLookup = prefixes.GetAlternateLookup<ReadOnlySpan<char>>();
        Count = byFirstWord.Values.Sum(e => e.Length) + prefixes.Count;
    }

    public int Count { get; }

    /// <summary>The longest phrase that starts at token <paramref name="index"/>, if any.</summary>
    public bool TryMatch(TokenizedText text, int index, out Entry match)
    {
        if (firstWordLookup.TryGetValue(text.Key(index), out var candidates))
        {
            foreach (var candidate in candidates)
            {
                if (Matches(text, index, candidate))
                {
                    match = candidate;
                    return true;
                }
            }
        }

        var key = text.Key(index);
        for (var length = key.Length; length >= shortestPrefix; length--)
        {
            if (prefixLookup.TryGetValue(key[..length], out var prefix))
            {
                match = prefix;
                return true;
            }
        }

        match = default;
        return false;
    }

    /// <summary>Lower-cases a phrase and splits it into keys the way <see cref="TokenizedText"/> does.</summary>
    public static string[] Normalise(string phrase) =>
        phrase.ToLowerInvariant()
            .Replace("\u2019", "", StringComparison.Ordinal)
            .Replace("'", "", StringComparison.Ordinal)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool Matches(TokenizedText text, int index, Entry candidate)
    {
        var words = candidate.Words;
        if (index + words.Length > text.Count)
        {
            return false;
        }

        for (var k = 1; k < words.Length; k++)
        {
            var key = text.Key(index + k);
            var isLast = k == words.Length - 1;
            var ok = isLast && candidate.IsPrefix ? key.StartsWith(words[k]) : key.SequenceEqual(words[k]);
            if (!ok)
            {
                return false;
            }
        }

        return words.Length > 1 || !candidate.IsPrefix || text.Key(index).StartsWith(words[0]);
    }

    internal readonly record struct Entry(string Text, string[] Words, bool IsPrefix, T Value)
    {
        public int Length => Words.Length;
    }
}
