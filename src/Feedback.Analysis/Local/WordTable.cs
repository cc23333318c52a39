namespace Feedback.Analysis.Local;

/// <summary>
/// A read-only table keyed by words, probed with a hash the caller already has: <see cref="TokenizedText"/>
/// hashes each token once, and the lexicon, the phrase tables, the stop words and the word lists all probe
/// with that one hash instead of hashing the same word again (that re-hashing was a quarter of the
/// classifier's time). Immutable after construction, so one instance is shared by all threads.
/// </summary>
internal sealed class WordTable<T>
{
    // Open addressing with linear probing, at most half full, so a miss (most tokens, for most tables)
    // usually ends at the first empty slot.
    private readonly string?[] keys;
    private readonly uint[] hashes;
    private readonly T[] values;
    private readonly int shift;

    /// <param name="entries">Distinct keys (a dictionary's entries).</param>
    public WordTable(IReadOnlyCollection<KeyValuePair<string, T>> entries)
    {
        var capacity = 8;
        while (capacity < entries.Count * 2)
        {
            capacity *= 2;
        }

        keys = new string?[capacity];
        hashes = new uint[capacity];
        values = new T[capacity];
        shift = 32 - System.Numerics.BitOperations.Log2((uint)capacity);
        foreach (var (key, value) in entries)
        {
            var hash = WordHash.Of(key);
            var slot = SlotOf(hash);
            while (keys[slot] is not null)
            {
                if (hashes[slot] == hash && string.Equals(keys[slot], key, StringComparison.Ordinal))
                {
                    throw new ArgumentException($"The key '{key}' is listed twice.", nameof(entries));
                }

                slot = (slot + 1) & (keys.Length - 1);
            }

            keys[slot] = key;
            hashes[slot] = hash;
            values[slot] = value;
        }

        Count = entries.Count;
    }

    public int Count { get; }

    /// <param name="hash"><see cref="WordHash.Of"/> of <paramref name="word"/>.</param>
    public bool TryGetValue(uint hash, ReadOnlySpan<char> word, out T value)
    {
        var slot = SlotOf(hash);
        while (keys[slot] is { } key)
        {
            if (hashes[slot] == hash && word.SequenceEqual(key))
            {
                value = values[slot];
                return true;
            }

            slot = (slot + 1) & (keys.Length - 1);
        }

        value = default!;
        return false;
    }

    public bool TryGetValue(ReadOnlySpan<char> word, out T value) => TryGetValue(WordHash.Of(word), word, out value);

    public bool Contains(uint hash, ReadOnlySpan<char> word) => TryGetValue(hash, word, out _);

    // Fibonacci hashing: the top bits of the product spread FNV's weak low bits over the slots.
    private int SlotOf(uint hash) => (int)((hash * 0x9E3779B9u) >> shift);
}

/// <summary>The word hash every <see cref="WordTable{T}"/> is probed with: FNV-1a, which extends one character at a time.</summary>
internal static class WordHash
{
    public const uint Empty = 2166136261;

    public static uint Of(ReadOnlySpan<char> word)
    {
        var hash = Empty;
        foreach (var c in word)
        {
            hash = Add(hash, c);
        }

        return hash;
    }

    /// <summary>The hash of a word one character longer: how a whole prefix family is hashed in one pass.</summary>
    public static uint Add(uint hash, char c) => (hash ^ c) * 16777619;

    /// <summary>A set of words: a table whose values are not needed.</summary>
    public static WordTable<bool> Set(IEnumerable<string> words) =>
        new(words.Distinct(StringComparer.Ordinal).Select(w => new KeyValuePair<string, bool>(w, true)).ToArray());
}
