using System.Buffers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Security;

/// <summary>What a key may do.</summary>
internal static class Scopes
{
    public const string Ingest = "ingest";
    public const string Read = "read";
    public const string Admin = "admin";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Ingest, Read, Admin };
}

/// <summary>An accepted key: its name, what it may do, and the SHA-256 digest it is recognised by.</summary>
internal sealed record ApiKey(string Name, IReadOnlySet<string> Scopes, byte[] Digest)
{
    public const string NameClaim = "key_id";
    public const string ScopeClaim = "scope";

    public ClaimsPrincipal Principal(string scheme) => new(new ClaimsIdentity(
        [new Claim(NameClaim, Name), .. Scopes.Select(s => new Claim(ScopeClaim, s))], scheme));
}

/// <summary>
/// The accepted keys, held only as SHA-256 digests: those in API_KEY (every scope, named by a digest prefix)
/// and the named, scoped ones in API_KEYS_FILE. The file is re-read when it changes, so keys are added,
/// rotated and revoked without a restart.
/// </summary>
internal sealed partial class ApiKeyStore
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    private readonly IReadOnlyList<ApiKey> _fromSettings;
    private readonly string _file;
    private readonly TimeProvider _time;
    private readonly ILogger<ApiKeyStore> _logger;
    private readonly Lock _gate = new();
    private IReadOnlyList<ApiKey> _keys;
    private (DateTime Modified, long Length) _fileStamp;
    private long _checkedAt;

    public ApiKeyStore(IOptions<SecurityOptions> settings, TimeProvider time, ILogger<ApiKeyStore> logger)
    {
        _fromSettings = [.. settings.Value.ApiKeys.Select(key => Digest(key)).Select(d => new ApiKey(Convert.ToHexStringLower(d.AsSpan(0, 6)), Scopes.All, d))];
        _file = settings.Value.ApiKeysPath;
        _time = time;
        _logger = logger;
        _keys = _fromSettings;
        _checkedAt = time.GetTimestamp();
        _keys = [.. _fromSettings, .. ReadFile(_file)];
        _fileStamp = Stamp(_file);
    }

    /// <summary>
    /// Compares the presented key with every accepted key in constant time, so neither the answer time nor an
    /// early exit tells which keys exist or how much of one matched.
    /// </summary>
    public ApiKey? Identify(string presented)
    {
        // Every request runs this: the digest stays on the stack.
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        Digest(presented, digest);
        ApiKey? match = null;
        var accepted = Current();
        for (var i = 0; i < accepted.Count; i++)
        {
            // Every key is compared, in constant time, so the time taken says nothing about which one matched.
            if (CryptographicOperations.FixedTimeEquals(digest, accepted[i].Digest))
            {
                match = accepted[i];
            }
        }

        return match;
    }

    public static byte[] Digest(string key)
    {
        var digest = new byte[SHA256.HashSizeInBytes];
        Digest(key, digest);
        return digest;
    }

    /// <summary>SHA-256 of the key's UTF-8 bytes, which stay on the stack for any key a header can sensibly hold.</summary>
    private static void Digest(string key, Span<byte> digest)
    {
        var length = Encoding.UTF8.GetByteCount(key);
        byte[]? rented = null;
        var utf8 = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        Encoding.UTF8.GetBytes(key, utf8);
        SHA256.HashData(utf8, digest);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Lines of <c>NAME SCOPES sha256:HEX</c> (scopes comma-separated), blank lines and # comments allowed.
    /// <c>./run.sh key add NAME --scopes ingest,read</c> writes such lines.
    /// </summary>
    public static IReadOnlyList<ApiKey> ParseFile(IEnumerable<string> lines)
    {
        var keys = new List<ApiKey>();
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3 || !parts[2].StartsWith("sha256:", StringComparison.Ordinal) || parts[2].Length != "sha256:".Length + 64)
            {
                throw new FormatException($"API_KEYS_FILE line {number}: expected 'NAME SCOPES sha256:HEX'.");
            }

            var scopes = parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            if (scopes.Count == 0 || !scopes.IsSubsetOf(Scopes.All))
            {
                throw new FormatException($"API_KEYS_FILE line {number}: scopes must be among ingest, read, admin.");
            }

            if (!IsValidName(parts[0]))
            {
                throw new FormatException($"API_KEYS_FILE line {number}: NAME must be {NameRule}.");
            }

            keys.Add(new ApiKey(parts[0], scopes, Convert.FromHexString(parts[2]["sha256:".Length..])));
        }

        return keys;
    }

    /// <summary>
    /// What a key's name may be. The name scopes stored idempotency keys (<c>NAME:KEY</c>, hashed), so it may not hold
    /// ':' (two names could then share one); it is also logged and shown, so it holds nothing to escape.
    /// </summary>
    public static bool IsValidName(string name) =>
        name.Length is >= 1 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    public const string NameRule = "1 to 64 ASCII letters, digits, '.', '_' or '-'";

    /// <summary>The file's keys; none while it does not exist (the default file, before the first <c>key add</c>).</summary>
    private static IReadOnlyList<ApiKey> ReadFile(string path) => File.Exists(path) ? ParseFile(File.ReadAllLines(path)) : [];

    private IReadOnlyList<ApiKey> Current()
    {
        if (_time.GetElapsedTime(Interlocked.Read(ref _checkedAt)) < CheckEvery)
        {
            return Volatile.Read(ref _keys);
        }

        lock (_gate)
        {
            Interlocked.Exchange(ref _checkedAt, _time.GetTimestamp());
            try
            {
                var stamp = Stamp(_file);
                if (stamp != _fileStamp)
                {
                    var fromFile = ReadFile(_file);
                    Volatile.Write(ref _keys, [.. _fromSettings, .. fromFile]);
                    _fileStamp = stamp;
                    LogReloaded(_logger, fromFile.Count);
                }
            }
            catch (Exception exception) when (exception is IOException or FormatException or UnauthorizedAccessException)
            {
                // A half-written or broken file must not lock everybody out: keep the keys we had.
                LogReloadFailed(_logger, exception.Message);
            }
        }

        return Volatile.Read(ref _keys);
    }

    private static (DateTime, long) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API keys file reloaded: {Count} named key(s)")]
    private static partial void LogReloaded(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "API keys file could not be reloaded; the previous keys stay in force: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string reason);
}
