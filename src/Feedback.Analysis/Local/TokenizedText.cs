using System.Runtime.CompilerServices;

namespace Feedback.Analysis.Local;

/// <summary>One whitespace-delimited token; offsets point into the owning <see cref="TokenizedText"/> buffers.</summary>
internal struct Token
{
    public int WordStart;
    public int WordLength;
    public int KeyStart;
    public int KeyLength;
    public int SourceStart;
    public int SourceLength;
    public bool IsAllCaps;
    public bool EndsClause;

    /// <summary><see cref="WordHash"/> of the word and of the key: every table probes with these instead of hashing again.</summary>
    public uint WordHash;
    public uint KeyHash;
}

/// <summary>
/// The tokens of one message, VADER style (split on whitespace, punctuation trimmed from word edges),
/// held in buffers that are reused per thread so classifying allocates no per-token strings.
/// </summary>
/// <remarks>
/// An instance belongs to the calling thread and is overwritten by the next call on that thread:
/// never let it escape a synchronous analysis.
/// </remarks>
internal sealed class TokenizedText
{
    [ThreadStatic]
    private static TokenizedText? perThread;

    private char[] words = new char[512];
    private char[] keys = new char[512];
    private Token[] tokens = new Token[96];

    private TokenizedText()
    {
    }

    public string Source { get; private set; } = "";

    public int Count { get; private set; }

    /// <summary>True when some but not all tokens are ALL CAPS, the VADER condition for caps emphasis.</summary>
    public bool IsCapDifferential { get; private set; }

    public int Exclamations { get; private set; }

    public int Questions { get; private set; }

    /// <summary>Per-token scratch space for analysers that run on this text; same lifetime as the tokens.</summary>
    public double[] Scratch { get; private set; } = new double[96];

    public int[] PhraseLengths { get; private set; } = new int[96];

    public ref readonly Token this[int index] => ref tokens[index];

    /// <summary>Lower-cased token as VADER looks it up (apostrophes kept, so "don't" and emoticons survive).</summary>
    public ReadOnlySpan<char> Word(int index) => words.AsSpan(tokens[index].WordStart, tokens[index].WordLength);

    /// <summary>Lower-cased token without apostrophes: the form phrases, topics and stop words match on.</summary>
    public ReadOnlySpan<char> Key(int index) => keys.AsSpan(tokens[index].KeyStart, tokens[index].KeyLength);

    /// <summary>Whether the word has an apostrophe (its key dropped some): only such a word can hold "n't".</summary>
    public bool HasApostrophe(int index) => tokens[index].WordLength != tokens[index].KeyLength;

    public bool WordIs(int index, string value) =>
        index >= 0 && index < Count && Word(index).SequenceEqual(value);

    /// <param name="lexicon">Entries (emoticons such as ":d") that are kept whole instead of being trimmed.</param>
    public static TokenizedText For(string text, SentimentLexicon? lexicon = null)
    {
        var instance = perThread ??= new TokenizedText();
        instance.Fill(text, lexicon);
        return instance;
    }

    private void Fill(string text, SentimentLexicon? lexicon)
    {
        Source = text;
        Count = 0;
        Exclamations = 0;
        Questions = 0;
        EnsureCapacity(ref words, text.Length);
        EnsureCapacity(ref keys, text.Length);

        var wordPos = 0;
        var keyPos = 0;
        var allCaps = 0;
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length)
            {
                break;
            }

            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                var c = text[i];
                if (c == '!')
                {
                    Exclamations++;
                }
                else if (c == '?')
                {
                    Questions++;
                }

                i++;
            }

            AddToken(text, start, i, ref wordPos, ref keyPos, ref allCaps, lexicon);
        }

        IsCapDifferential = allCaps > 0 && allCaps < Count;
    }

    private void AddToken(string text, int start, int end, ref int wordPos, ref int keyPos, ref int allCaps, SentimentLexicon? lexicon)
    {
        var rawLength = end - start;
        var whole = words.AsSpan(wordPos, rawLength);
        for (var k = 0; k < rawLength; k++)
        {
            whole[k] = Fold(text[start + k]);
        }

        var trimStart = start;
        var trimEnd = end;
        while (trimStart < trimEnd && IsAsciiPunctuation(text[trimStart]))
        {
            trimStart++;
        }

        while (trimEnd > trimStart && IsAsciiPunctuation(text[trimEnd - 1]))
        {
            trimEnd--;
        }

        // VADER keeps tokens whose stripped form is two characters or fewer; that loses "ok." and "no!",
        // so we strip any token that keeps a letter or digit unless the whole token is itself an entry.
        // A token with no punctuation at its edges is the same either way, so only a trimmed one is looked up.
        var trimmed = trimStart != start || trimEnd != end;
        var useWhole = trimStart == trimEnd || (trimmed && lexicon is not null && lexicon.Contains(whole));
        int sourceStart = useWhole ? start : trimStart, sourceEnd = useWhole ? end : trimEnd;
        var length = sourceEnd - sourceStart;
        if (!useWhole && trimStart != start)
        {
            whole.Slice(trimStart - start, length).CopyTo(whole);
        }

        var keyLength = 0;
        var wordHash = Local.WordHash.Empty;
        var keyHash = Local.WordHash.Empty;
        var hasCased = false;
        var hasLower = false;
        for (var k = 0; k < length; k++)
        {
            var original = text[sourceStart + k];
            if (char.IsAscii(original))
            {
                hasLower |= char.IsAsciiLetterLower(original);
                hasCased |= char.IsAsciiLetterUpper(original);
            }
            else if (char.IsLower(original))
            {
                hasLower = true;
            }
            else if (char.IsUpper(original))
            {
                hasCased = true;
            }

            var c = words[wordPos + k];
            wordHash = Local.WordHash.Add(wordHash, c);
            if (c != '\'')
            {
                keys[keyPos + keyLength++] = c;
                keyHash = Local.WordHash.Add(keyHash, c);
            }
        }

        if (Count == tokens.Length)
        {
            Array.Resize(ref tokens, tokens.Length * 2);
            Scratch = new double[tokens.Length];
            PhraseLengths = new int[tokens.Length];
        }

        var last = text[end - 1];
        var isAllCaps = hasCased && !hasLower;
        if (isAllCaps)
        {
            allCaps++;
        }

        tokens[Count++] = new Token
        {
            WordStart = wordPos,
            WordLength = length,
            KeyStart = keyPos,
            KeyLength = keyLength,
            SourceStart = sourceStart,
            SourceLength = length,
            IsAllCaps = isAllCaps,
            EndsClause = last is ',' or ';' or '.' or '!' or '?' or ':' || (rawLength == 1 && last is '-' or '\u2013' or '\u2014'),
            WordHash = wordHash,
            KeyHash = keyHash,
        };
        wordPos += length;
        keyPos += keyLength;
    }

    /// <summary>Lower-cases and folds typographic quotes so "don’t" and "don't" look up the same.</summary>
    /// <remarks>Runs for every character: the ASCII case is inlined, the rest is a call.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static char Fold(char c) => char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c < 128 ? c : FoldNonAscii(c);

    private static char FoldNonAscii(char c) => c switch
    {
        '\u2018' or '\u2019' or '\u02BC' => '\'',
        '\u201C' or '\u201D' => '"',
        _ => char.ToLowerInvariant(c),
    };

    /// <summary>Python's string.punctuation, which VADER strips from word edges, plus typographic quotes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsAsciiPunctuation(char c) =>
        (c < 128 && char.IsAsciiLetterOrDigit(c) is false && c > ' ' && c != 127)
        || c is '\u2018' or '\u2019' or '\u201C' or '\u201D' or '\u2026';

    private static void EnsureCapacity(ref char[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new char[Math.Max(length, buffer.Length * 2)];
        }
    }
}
