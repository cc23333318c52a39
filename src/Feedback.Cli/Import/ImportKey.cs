using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Feedback.Cli.Import;

/// <summary>
/// A row's idempotency key held as its SHA-256 digest. The set of keys already seen holds these values rather than
/// 100,000 strings the GC would have to carry to its oldest generation; the stored form <c>import:&lt;hex&gt;</c>
/// (<see cref="ToString"/>) is made only for a row that is written.
/// </summary>
internal readonly record struct ImportKey(UInt128 First, UInt128 Second)
{
    public const string Prefix = "import:";

    private const int DigestBytes = 32;
    private static readonly int TextLength = Prefix.Length + (2 * DigestBytes);

    /// <summary>A hash of the row's own id when there is one, else of what it says and who said it.</summary>
    public static ImportKey For(ImportRow row) => row.SourceId is { Length: > 0 } id
        ? Hash(["id", id])
        : Hash(["content", row.Text, row.Source, row.CustomerId]);

    /// <summary>Reads a stored key; false for anything that is not <c>import:</c> and 64 lower-case hex digits.</summary>
    public static bool TryParse(string text, out ImportKey key)
    {
        key = default;
        Span<byte> digest = stackalloc byte[DigestBytes];
        if (text.Length != TextLength || !text.StartsWith(Prefix, StringComparison.Ordinal) || text.AsSpan(Prefix.Length).ContainsAnyInRange('A', 'F')
            || Convert.FromHexString(text.AsSpan(Prefix.Length), digest, out _, out var written) != OperationStatus.Done || written != DigestBytes)
        {
            return false;
        }

        key = From(digest);
        return true;
    }

    public override string ToString() => string.Create(TextLength, this, static (chars, key) =>
    {
        Prefix.CopyTo(chars);
        Span<byte> digest = stackalloc byte[DigestBytes];
        MemoryMarshal.Write(digest, key.First);
        MemoryMarshal.Write(digest[16..], key.Second);
        Convert.TryToHexStringLower(digest, chars[Prefix.Length..], out _);
    });

    /// <summary>SHA-256 of the UTF-8 of the parts joined by line feeds (null as empty), without building the joined string.</summary>
    private static ImportKey Hash(ReadOnlySpan<string?> parts)
    {
        var utf8 = Encoding.UTF8;
        var length = parts.Length - 1;
        foreach (var part in parts)
        {
            length += utf8.GetByteCount(part ?? "");
        }

        var rented = length > 1024 ? ArrayPool<byte>.Shared.Rent(length) : null;
        var buffer = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
        try
        {
            var at = 0;
            for (var p = 0; p < parts.Length; p++)
            {
                if (p > 0)
                {
                    buffer[at++] = (byte)'\n';
                }

                at += utf8.GetBytes(parts[p] ?? "", buffer[at..]);
            }

            Span<byte> digest = stackalloc byte[DigestBytes];
            SHA256.HashData(buffer, digest);
            return From(digest);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static ImportKey From(ReadOnlySpan<byte> digest) =>
        new(MemoryMarshal.Read<UInt128>(digest), MemoryMarshal.Read<UInt128>(digest[16..]));
}
