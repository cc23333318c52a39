namespace Feedback.Analysis.Local;

/// <summary>
/// Multi-word phrases matched on token keys (lower case, apostrophes removed, so "can't log in" also
/// matches "cant log in"). A trailing '*' on the last word matches any word with that prefix
/// ("crash*" covers crash, crashes, crashed, crashing).
/// </summary>
internal sealed class PhraseTable<T>
{
    private readonly WordTable<Entry[]> byFirstWord;
    private readonly WordTable<Entry> prefixes;
    private readonly int shortestPrefix;
    private readonly int longestPrefix;

    /// <summary>Which lengths some one-word prefix has: only those are probed.</summary>
    private readonly bool[] prefixLengths;

    /// <summary>
    /// The one-word prefixes cut to the shortest one's length: a key whose start is not among them has no prefix
    /// in the table, which settles most tokens with one probe.
    /// </summary>
    private readonly WordTable<bool> prefixStems;

    public PhraseTable(IEnumerable<KeyValuePair<string, T>> phrases)
    {
        var grouped = new Dictionary<string, List<Entry>>(StringComparer.Ordinal);
        var oneWordPrefixes = new Dictionary<string, Entry>(StringComparer.Ordinal);
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

            var entry = new Entry(text, words, isPrefix, value) { WordHashes = [.. words.Select(w => WordHash.Of(w))] };
            if (isPrefix && words.Length == 1)
            {
                if (!oneWordPrefixes.TryAdd(words[0], entry))
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
        var ordered = grouped.ToDictionary(
            g => g.Key,
            g => g.Value.OrderByDescending(e => e.Words.Length).ThenBy(e => e.IsPrefix).ToArray(),
            StringComparer.Ordinal);
        byFirstWord = new WordTable<Entry[]>(ordered);
        FirstWords = [.. ordered.Keys];
        prefixes = new WordTable<Entry>(oneWordPrefixes);
        longestPrefix = oneWordPrefixes.Count == 0 ? 0 : oneWordPrefixes.Keys.Max(p => p.Length);
        prefixLengths = new bool[longestPrefix + 1];
        foreach (var prefix in oneWordPrefixes.Keys)
        {
            prefixLengths[prefix.Length] = true;
        }

        prefixStems = WordHash.Set(oneWordPrefixes.Keys.Select(p => p[..shortestPrefix]));

        Count = ordered.Values.Sum(e => e.Length) + oneWordPrefixes.Count;
    }

    public int Count { get; }

    /// <summary>The words the phrases start with, one-word prefixes aside: a key that is none of them can match only a prefix.</summary>
    public IReadOnlyList<string> FirstWords { get; }

    /// <summary>The longest phrase that starts at token <paramref name="index"/>, if any.</summary>
    public bool TryMatch(TokenizedText text, int index, out Entry match)
    {
        var key = text.Key(index);
        if (byFirstWord.TryGetValue(text[index].KeyHash, key, out var candidates))
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

        return TryMatchPrefix(key, out match);
    }

    /// <summary>The longest one-word prefix of <paramref name="key"/>: what <see cref="TryMatch"/> finds for a key that is not one of the <see cref="FirstWords"/>.</summary>
    /// <remarks>
    /// Most keys fail at the stem, which needs only the hash of the first few characters; the hashes of the longer
    /// prefixes are made in <see cref="TryMatchLongestPrefix"/>, apart, so this test stays small and free of stack
    /// buffers (a method with stackalloc is compiled once without the profile-guided tier).
    /// </remarks>
    public bool TryMatchPrefix(ReadOnlySpan<char> key, out Entry match)
    {
        var upTo = Math.Min(key.Length, longestPrefix);
        if (upTo >= shortestPrefix)
        {
            var stem = key[..shortestPrefix];
            var hash = WordHash.Of(stem);
            if (prefixStems.Contains(hash, stem))
            {
                return TryMatchLongestPrefix(key, upTo, hash, out match);
            }
        }

        match = default;
        return false;
    }

    /// <param name="stemHash">The hash of the key's first <see cref="shortestPrefix"/> characters; the longer prefixes' hashes extend it.</param>
    private bool TryMatchLongestPrefix(ReadOnlySpan<char> key, int upTo, uint stemHash, out Entry match)
    {
        Span<uint> hashes = upTo < 128 ? stackalloc uint[upTo + 1] : new uint[upTo + 1];
        hashes[shortestPrefix] = stemHash;
        for (var k = shortestPrefix; k < upTo; k++)
        {
            hashes[k + 1] = WordHash.Add(hashes[k], key[k]);
        }

        for (var length = upTo; length >= shortestPrefix; length--)
        {
            if (prefixLengths[length] && prefixes.TryGetValue(hashes[length], key[..length], out match))
            {
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
            var ok = isLast && candidate.IsPrefix
                ? key.StartsWith(words[k])
                : text[index + k].KeyHash == candidate.WordHashes[k] && key.SequenceEqual(words[k]);
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

        /// <summary><see cref="WordHash"/> of each word, compared before the words themselves.</summary>
        public required uint[] WordHashes { get; init; }
    }
}
