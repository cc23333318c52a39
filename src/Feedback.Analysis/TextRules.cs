using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Feedback.Analysis;

/// <summary>Input rules from the contract that hold whatever classifier decides.</summary>
public static class TextRules
{
    /// <summary>Shorter than this (after trimming) is decided by validation, not by a classifier.</summary>
    public const int MinAnalysedLength = 10;

    /// <summary>Longer text is stored whole but analysed on this many characters.</summary>
    public const int MaxAnalysedLength = 5000;

    /// <summary>Length in user-perceived characters (text elements), so an emoji counts once.</summary>
    public static int Length(string text) => new StringInfo(text).LengthInTextElements;

    /// <summary>
    /// Whether <paramref name="text"/> has fewer than <paramref name="count"/> text elements. A text element is at
    /// least one char, so only the first <paramref name="count"/> elements are ever segmented, not the whole text.
    /// </summary>
    public static bool IsShorterThan(string text, int count)
    {
        if (text.Length < count)
        {
            return true;
        }

        var rest = text.AsSpan();
        for (var seen = 0; seen < count; seen++)
        {
            if (rest.IsEmpty)
            {
                return true;
            }

            rest = rest[StringInfo.GetNextTextElementLength(rest)..];
        }

        return false;
    }

    /// <summary>Whether <paramref name="text"/> has more than <paramref name="count"/> text elements; no segmenting when it has no more chars.</summary>
    public static bool IsLongerThan(string text, int count) => text.Length > count && Length(text) > count;

    /// <summary>The first <paramref name="max"/> characters, never splitting a character in two.</summary>
    public static string Truncate(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var info = new StringInfo(text);
        return info.LengthInTextElements <= max ? text : info.SubstringByTextElements(0, max);
    }

    /// <summary>
    /// Canonical form for cache keys: Unicode NFC, trimmed, runs of white space folded to one space.
    /// Case is kept because capitals change the local classifier's answer.
    /// </summary>
    public static string Normalise(string text)
    {
        var composed = text.Normalize(NormalizationForm.FormC);
        if (IsFolded(composed))
        {
            // Most messages are already in this form: the same string, without copying it.
            return composed;
        }

        var builder = new StringBuilder(composed.Length);
        var pendingSpace = false;
        foreach (var c in composed)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>No white space but single spaces between other characters: what <see cref="Normalise"/> would make of it.</summary>
    private static bool IsFolded(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i])
                && (text[i] != ' ' || i == 0 || i == text.Length - 1 || char.IsWhiteSpace(text[i - 1]) || char.IsWhiteSpace(text[i + 1])))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>SHA-256 over the classifier version and the normalised text: the raw text is never a key.</summary>
    public static CacheKey KeyFor(string normalisedText, string classifierVersion)
    {
        var byteCount = Encoding.UTF8.GetByteCount(classifierVersion) + 1 + Encoding.UTF8.GetByteCount(normalisedText);
        var buffer = byteCount <= 1024 ? stackalloc byte[byteCount] : new byte[byteCount];
        var written = Encoding.UTF8.GetBytes(classifierVersion, buffer);
        buffer[written++] = 0;
        Encoding.UTF8.GetBytes(normalisedText, buffer[written..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(buffer, hash);
        return CacheKey.From(hash);
    }
}

/// <summary>A SHA-256 digest held as four words, cheap to hash and compare.</summary>
public readonly record struct CacheKey(ulong A, ulong B, ulong C, ulong D)
{
    public static CacheKey From(ReadOnlySpan<byte> sha256) => new(
        BitConverter.ToUInt64(sha256[..8]),
        BitConverter.ToUInt64(sha256[8..16]),
        BitConverter.ToUInt64(sha256[16..24]),
        BitConverter.ToUInt64(sha256[24..32]));
}
